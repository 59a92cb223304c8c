package io.leadrelay.config;

import java.nio.file.Path;

/**
 * Where the three JSON-lines logs go and how they roll: a file rolls daily or at {@code maxFileSize}; rolled
 * files are kept {@code maxDays} days and {@code totalSizeCap} in all. Sizes use logback's syntax ("50MB").
 */
public record LogConfig(Path dir, String maxFileSize, int maxDays, String totalSizeCap) {
}
