package io.leadrelay.e2e;

import io.leadrelay.testing.Resources;
import io.leadrelay.testing.TestRelay;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With no portal configured the relay accepts, maps and logs the lead it would create. */
@ExtendWith(VertxExtension.class)
class DryRunTest {

  @Test
  void theLeadThatWouldBeCreatedIsInSuccessLog(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    TestRelay.start(vertx, dir, null)
        .compose(relay -> relay.postJson(Resources.text("seed-example.json"))
            .compose(response -> {
              ctx.verify(() -> assertEquals(200, response.statusCode()));
              String id = response.bodyAsJsonObject().getString("id");
              return relay.awaitLines("success", lines -> !lines.isEmpty()).map(lines -> {
                ctx.verify(() -> {
                  JsonObject line = lines.get(0);
                  assertEquals(id, line.getString("id"));
                  assertTrue(line.getBoolean("dryRun"));
                  assertNull(line.getValue("leadId"));
                  JsonObject expected = Resources.json("seed-example.expected-lead.json")
                      .put("ORIGINATOR_ID", "leadrelay").put("ORIGIN_ID", id);
                  assertEquals(expected, line.getJsonObject("lead"));
                });
                return lines;
              });
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
