package io.leadrelay.e2e;

import io.leadrelay.testing.FakeBitrixPortal;
import io.leadrelay.testing.FakeBitrixPortal.Reply;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.UnexpectedAlertBehaviour;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin page in a real headless Chromium (Debian's {@code chromium} and {@code chromedriver}, driven by
 * Selenium WebDriver) against a whole relay on a free port with the fake portal: an operator logs in, finds a
 * subscriber by phone, opens the DEAD delivery, replays it and sees it DELIVERED with a link to the lead; previews
 * a payload; and hostile payload values show as text and run nothing. Without Chromium the test fails: it never
 * skips. Screenshots go to {@code target/admin-screenshots/}.
 */
class AdminPageBrowserTest {

  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path SHOTS = Path.of("target", "admin-screenshots");
  private static final String IMG = "<img src=x onerror=alert(1)>";
  private static final String SCRIPT = "<script>alert(1)</script>";

  @TempDir
  Path dir;

  private Vertx vertx;
  private TestRelay relay;
  private FakeBitrixPortal portal;
  private WebDriver browser;
  private WebDriverWait wait;

  @BeforeEach
  void relayAndBrowser() throws IOException {
    assertTrue(Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM), "The admin page test needs"
        + " Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does it)");
    vertx = Vertx.vertx();
    portal = await(FakeBitrixPortal.start(vertx));
    relay = await(TestRelay.start(vertx, dir, portal.webhookUrl()));
    Files.createDirectories(SHOTS);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--lang=ru-RU", "--window-size=1280,900",
        "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
    // An alert must stay open for the test to see it (the default would dismiss it and fail some other call).
    options.setUnhandledPromptBehaviour(UnexpectedAlertBehaviour.IGNORE);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
    wait = new WebDriverWait(browser, Duration.ofSeconds(20));
  }

  @AfterEach
  void close() {
    if (browser != null) {
      browser.quit();
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  @Test
  void anOperatorFindsReplaysAndPreviewsInARealBrowserAndHostileValuesStayText() throws IOException {
    // Two subscribers: the first one's lead is refused once (DEAD), the second one's is delivered.
    portal.enqueue(Reply.error(400, "", "Не заполнено обязательное поле \"Телефон\""));
    String dead = accept("{\"name\":\"Иван " + IMG + "\",\"phone\":\"+7 (999) 123-45-67\","
        + "\"email\":\"ivan@example.ru\",\"Комментарий\":\"" + SCRIPT.replace("/", "\\/") + "\"}");
    awaitState(dead, "DEAD");
    String delivered = accept("{\"name\":\"Мария\",\"phone\":\"+79990000002\"}");
    awaitState(delivered, "DELIVERED");

    String base = "http://127.0.0.1:" + relay.port() + "/admin/";
    browser.get(base);
    // A wrong token is refused, and the page says so.
    login("wrong-token");
    wait.until(ExpectedConditions.textToBe(By.id("login-error"), "The admin token is wrong."));
    assertTrue(browser.findElement(By.id("login")).isDisplayed());

    login(TestRelay.ADMIN_TOKEN);
    wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#deliveries tr.row"), 2));
    assertNoAlert();
    screenshot("list");

    // Search by the phone written another way.
    browser.findElement(By.id("filter-q")).sendKeys("89991234567");
    browser.findElement(By.id("search")).click();
    wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#deliveries tr.row"), 1));
    WebElement row = browser.findElement(By.cssSelector("#deliveries tr.row"));
    assertEquals(dead, row.getAttribute("data-id"));
    assertTrue(row.getText().contains("Иван " + IMG), row.getText());
    assertTrue(row.getText().contains("DEAD"), row.getText());
    assertTrue(row.getText().contains("Телефон"), "the last error in words: " + row.getText());

    // The DEAD delivery: the hostile values are text, nothing ran.
    row.findElement(By.cssSelector("a.open")).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("replay")));
    String payload = browser.findElement(By.id("payload")).getText();
    assertTrue(payload.contains(IMG), payload);
    assertTrue(payload.contains(SCRIPT), payload);
    assertTrue(browser.findElement(By.id("delivery-subscriber")).getText().contains(IMG));
    assertEquals(0L, ((JavascriptExecutor) browser).executeScript(
        "return document.querySelectorAll('#view img, #view script').length;"), "no element made of a value");
    assertNoAlert();
    assertTrue(browser.findElement(By.id("mapped")).getText().contains("PHONE"));
    assertTrue(browser.findElement(By.id("history")).getText().contains("Не заполнено обязательное поле"));
    screenshot("detail");

    // Replay: DEAD becomes DELIVERED, with the link to the lead in the portal.
    browser.findElement(By.id("replay")).click();
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("delivery-state"), "DELIVERED"));
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("replay-result"), "Delivered"));
    WebElement lead = browser.findElement(By.cssSelector("#delivery-lead a"));
    long leadId = portal.leadIds().get(portal.leadIds().size() - 1);
    assertEquals(portal.portalUrl() + "/crm/lead/details/" + leadId + "/", lead.getAttribute("href"));
    assertFalse(lead.getAttribute("href").contains(portal.code()), "never the webhook code");
    assertEquals(2, portal.leads().size(), "one lead per subscriber, none twice");
    screenshot("detail-delivered");

    // Preview the same payload with the current mapping, then a body that is not JSON.
    browser.findElement(By.id("to-preview")).click();
    wait.until(ExpectedConditions.elementToBeClickable(By.id("preview-run"))).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("preview-fields")));
    String fields = browser.findElement(By.id("preview-fields")).getText();
    assertTrue(fields.contains("Иван " + IMG), fields);
    // The preview shows the phone as it will be sent: in E.164, whatever way the subscriber typed it.
    assertTrue(fields.contains("+79991234567"), fields);
    assertTrue(fields.contains("Комментарий: " + SCRIPT), fields);
    assertNoAlert();
    screenshot("preview");
    WebElement body = browser.findElement(By.id("preview-body"));
    body.clear();
    body.sendKeys("{\"name\": ");
    browser.findElement(By.id("preview-run")).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("preview-error")));
    assertFalse(browser.findElement(By.id("preview-error")).getText().isBlank());

    // The portals view tells the portal is sending.
    browser.get(base + "#/portals");
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("article.portal"), "sending"));
    screenshot("portals");

    // A phone's screen.
    browser.manage().window().setSize(new Dimension(390, 844));
    browser.get(base + "#/deliveries");
    wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#deliveries tr.row"), 2));
    assertTrue((Boolean) ((JavascriptExecutor) browser).executeScript(
        "return document.documentElement.scrollWidth <= window.innerWidth;"), "no sideways scrolling on a phone");
    screenshot("list-phone");
    browser.get(base + "#/deliveries/" + dead);
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("delivery-state"), "DELIVERED"));
    screenshot("detail-phone");
    assertNoAlert();
  }

  private void login(String token) {
    WebElement input = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
    input.clear();
    input.sendKeys(token);
    browser.findElement(By.id("login-button")).click();
  }

  private void assertNoAlert() {
    assertThrows(NoAlertPresentException.class, () -> browser.switchTo().alert(), "a payload value ran script");
  }

  private void screenshot(String name) throws IOException {
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  private String accept(String json) {
    HttpResponse<Buffer> response = await(relay.postJson(json));
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("id");
  }

  private void awaitState(String id, String state) {
    await(relay.pollAsync(() -> relay.client().get(relay.port(), "127.0.0.1", "/admin/deliveries/" + id)
        .putHeader("Authorization", "Bearer " + TestRelay.ADMIN_TOKEN).send()
        .map(HttpResponse<Buffer>::bodyAsJsonObject)
        .map(shown -> state.equals(shown.getString("state")) ? shown : null)));
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
