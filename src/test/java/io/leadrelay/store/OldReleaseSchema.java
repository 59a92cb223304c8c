package io.leadrelay.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Builds a SQLite store file the way the releases before Flyway left it: the scripts up to a version run by hand
 * and recorded in their own {@code schema_version} table, no Flyway history. The scripts are the released ones,
 * which never change.
 */
final class OldReleaseSchema {

  private OldReleaseSchema() {
  }

  /** Creates {@code file} at {@code version} (1: deliveries only; 2: with OAuth tokens) as an old release did. */
  static void create(Path file, int version) throws SQLException, IOException {
    List<String> scripts = List.of("V1__deliveries.sql", "V2__portal_tokens.sql");
    try (Connection connection = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + file, new Properties());
         Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA journal_mode = WAL");
      statement.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
      for (int v = 1; v <= version; v++) {
        for (String sql : statements(load(scripts.get(v - 1)))) {
          statement.execute(sql);
        }
        statement.execute("INSERT INTO schema_version VALUES (" + v + ", 0)");
      }
    }
  }

  private static String load(String script) throws IOException {
    try (InputStream in = OldReleaseSchema.class.getClassLoader().getResourceAsStream("db/sqlite/" + script)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The old release's own splitting: whole "--" comment lines, no ';' inside a statement. */
  private static List<String> statements(String script) {
    StringBuilder text = new StringBuilder();
    for (String line : script.split("\n")) {
      if (!line.strip().startsWith("--")) {
        text.append(line).append('\n');
      }
    }
    List<String> statements = new ArrayList<>();
    for (String part : text.toString().split(";")) {
      if (!part.isBlank()) {
        statements.add(part.strip());
      }
    }
    return statements;
  }
}
