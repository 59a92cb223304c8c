package io.leadrelay.logging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A log file written by one relay while operators and other programs also touch it. */
class LineOutputTest {

  @TempDir
  Path tmp;

  @Test
  void aFileEmptiedFromOutsideGoesOnAtItsNewEndWithoutAHoleOfNulBytes() throws IOException {
    // What `: > webhook.log` (freeing a full disk) and logrotate's copytruncate do to the file under the relay.
    Path log = tmp.resolve("webhook.log");
    try (LineOutput out = LineOutput.open(log)) {
      out.write(line("{\"n\":1}"));
      new FileOutputStream(log.toFile()).close();
      out.write(line("{\"n\":2}"));
    }
    assertEquals("{\"n\":2}\n", Files.readString(log, StandardCharsets.UTF_8));
  }

  @Test
  void twoRelaysSharingOneLogDirKeepEachOthersLines() throws IOException {
    // Two relays with their own DATA_DIR but one LOG_DIR: neither may write over the other's lines.
    Path log = tmp.resolve("webhook.log");
    try (LineOutput first = LineOutput.open(log); LineOutput second = LineOutput.open(log)) {
      first.write(line("{\"relay\":1,\"n\":1}"));
      second.write(line("{\"relay\":2,\"n\":1}"));
      first.write(line("{\"relay\":1,\"n\":2}"));
    }
    assertEquals(List.of("{\"relay\":1,\"n\":1}", "{\"relay\":2,\"n\":1}", "{\"relay\":1,\"n\":2}"),
        Files.readAllLines(log, StandardCharsets.UTF_8));
  }

  private static byte[] line(String json) {
    return (json + "\n").getBytes(StandardCharsets.UTF_8);
  }
}
