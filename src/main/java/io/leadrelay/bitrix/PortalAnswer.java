package io.leadrelay.bitrix;

import io.vertx.core.buffer.Buffer;

/** A whole HTTP answer from a portal (or its OAuth server), read within the deadline and the size cap. */
record PortalAnswer(int status, String contentType, String location, Buffer body) {
}
