package io.leadrelay.config;

/**
 * The SMTP server e-mail alerts go through. Port 465 is TLS from the start; any other port upgrades with STARTTLS
 * when the server offers it. No user: no login.
 */
public record SmtpConfig(String host, int port, String user, String password, String from) {

  public static final int DEFAULT_PORT = 587;

  public boolean configured() {
    return host != null;
  }

  @Override
  public String toString() {
    return "SmtpConfig[" + host + ":" + port + ", user=" + user + ", password=***, from=" + from + "]";
  }
}
