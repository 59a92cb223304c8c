package io.leadrelay.mapping;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A lead TITLE with {@code {payload key}} placeholders, e.g. {@code "Заявка: {Тип продукта} ({name})"}.
 * Everything between a brace and the next closing brace is the key, because BotHelp custom field names are
 * display names with spaces, Cyrillic and emoji. A brace that is never closed is kept as literal text.
 */
final class TitleTemplate {

  /** Either literal text or a payload key; the template is parsed once, rendered per delivery. */
  private record Part(String text, boolean placeholder) {
  }

  private final String fallback;
  private final List<Part> parts;

  TitleTemplate(String template, String fallback) {
    this.fallback = fallback;
    this.parts = parse(template == null ? "" : template);
  }

  /** The title for this payload; the fallback when it renders blank (an operator must never see an empty title). */
  String render(JsonObject payload) {
    StringBuilder title = new StringBuilder();
    for (Part part : parts) {
      title.append(part.placeholder() ? PayloadValue.text(payload.getValue(part.text())) : part.text());
    }
    String rendered = title.toString().trim();
    return rendered.isEmpty() ? fallback : rendered;
  }

  private static List<Part> parse(String template) {
    List<Part> parts = new ArrayList<>();
    int position = 0;
    while (position < template.length()) {
      int open = template.indexOf('{', position);
      int close = open < 0 ? -1 : template.indexOf('}', open + 1);
      if (close < 0) {
        parts.add(new Part(template.substring(position), false));
        break;
      }
      if (open > position) {
        parts.add(new Part(template.substring(position, open), false));
      }
      parts.add(new Part(template.substring(open + 1, close), true));
      position = close + 1;
    }
    return List.copyOf(parts);
  }
}
