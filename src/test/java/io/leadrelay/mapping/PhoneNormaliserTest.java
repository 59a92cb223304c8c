package io.leadrelay.mapping;

import io.leadrelay.mapping.PhoneNormaliser.Format;
import io.leadrelay.mapping.PhoneNormaliser.Phone;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhoneNormaliserTest {

  private final PhoneNormaliser russian = PhoneNormaliser.russian();

  @Test
  void everyWayRussiansWriteAMobileNumberBecomesOneE164String() {
    for (String typed : List.of("8 (999) 123-45-67", "+7 999 123 45 67", "79991234567", "89991234567",
        "+7(999)123-45-67", "8-999-123-45-67", "9991234567", " +7 999 123-45-67 ", "+7 (999) 123\u201345\u201367",
        "8.999.123.45.67")) {
      assertEquals(new Phone("+79991234567", true), russian.normalise(typed), typed);
    }
  }

  @Test
  void aMoscowLandlineToo() {
    assertEquals(new Phone("+74951234567", true), russian.normalise("8 (495) 123-45-67"));
    assertEquals(new Phone("+74951234567", true), russian.normalise("+7 495 123 45 67"));
  }

  @Test
  void kazakhNumbersShareTheCountryCodeAndStayKazakh() {
    assertEquals(new Phone("+77011234567", true), russian.normalise("+7 701 123 45 67"));
    // Typed the Kazakh way, with the trunk 8, by a subscriber of a Russian bot: +7 is shared, so it still works.
    assertEquals(new Phone("+77011234567", true), russian.normalise("8 (701) 123-45-67"));
    PhoneNormaliser kazakh = new PhoneNormaliser("kz", Format.E164);
    assertEquals(new Phone("+77011234567", true), kazakh.normalise("8 701 123 4567"));
  }

  @Test
  void belarusianNumbersWithTheirCountryCodeOrInTheBelarusianRegion() {
    assertEquals(new Phone("+375291234567", true), russian.normalise("+375 (29) 123-45-67"));
    assertEquals(new Phone("+375291234567", true), russian.normalise("375291234567"));
    PhoneNormaliser belarusian = new PhoneNormaliser("BY", Format.E164);
    assertEquals(new Phone("+375291234567", true), belarusian.normalise("8 029 123-45-67"));
    assertEquals(new Phone("+375291234567", true), belarusian.normalise("+375 29 123 45 67"));
  }

  @Test
  void garbageStaysAsTypedAndIsMarkedUnrecognised() {
    for (String typed : List.of("не скажу", "12345", "+7 999", "89991234567 звоните после 18",
        "мой номер 89991234567", "8 (000) 000-00-00", "1111111111111111111", "ivan@mail.ru", "+", "()-")) {
      Phone phone = russian.normalise(typed);
      assertFalse(phone.recognised(), typed);
      assertEquals(typed.trim(), phone.value(), typed);
    }
    assertEquals(new Phone("", false), russian.normalise("   "));
    assertEquals(new Phone("", false), russian.normalise(null));
  }

  @Test
  void theOriginalFormatKeepsWhatWasTypedButStillTellsGarbage() {
    PhoneNormaliser original = new PhoneNormaliser("RU", Format.ORIGINAL);
    assertEquals(new Phone("8 (999) 123-45-67", true), original.normalise(" 8 (999) 123-45-67 "));
    assertEquals(new Phone("не скажу", false), original.normalise("не скажу"));
  }

  @Test
  void regionsAndFormatsAreCheckedAsConfigurationSpellsThem() {
    assertTrue(PhoneNormaliser.supportedRegion("ru"));
    assertTrue(PhoneNormaliser.supportedRegion("BY"));
    assertFalse(PhoneNormaliser.supportedRegion("RUS"));
    assertFalse(PhoneNormaliser.supportedRegion("ZZ"));
    assertFalse(PhoneNormaliser.supportedRegion(null));
    assertThrows(IllegalArgumentException.class, () -> new PhoneNormaliser("XX", Format.E164));
    assertEquals(Format.E164, Format.parse("E164"));
    assertEquals(Format.E164, Format.parse(" e.164 "));
    assertEquals(Format.ORIGINAL, Format.parse("original"));
    assertNull(Format.parse("international"));
  }
}
