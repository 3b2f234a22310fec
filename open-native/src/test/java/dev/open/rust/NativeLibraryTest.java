package dev.open.rust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

import dev.open.rust.internal.NativeLibrary;

/** Load failures name the platform and every place searched. */
class NativeLibraryTest {

  @Test
  void namesThePlatformInTheResourcePath() {
    assertThat(NativeLibrary.platform()).matches("(linux|macos|windows)-(x86_64|aarch64)");
  }

  @Test
  void aMissingOverrideFileIsReportedWithTheProperty() {
    String previous = System.setProperty(NativeLibrary.LIBRARY_PROPERTY, "/nonexistent/libx.so");
    try {
      NativeLoadException e = catchThrowableOfType(NativeLoadException.class, NativeLibrary::load);
      assertThat(e).hasMessage("no loadable libopen_native for platform " + NativeLibrary.platform()
          + "; searched: system property open.native.library=/nonexistent/libx.so (no such file)");
    } finally {
      restore(NativeLibrary.LIBRARY_PROPERTY, previous);
    }
  }

  @Test
  void anUnsupportedPlatformListsEveryPlaceSearched() {
    String previous = System.setProperty("os.arch", "riscv64");
    try {
      NativeLoadException e = catchThrowableOfType(NativeLoadException.class, NativeLibrary::load);
      assertThat(e).hasMessageStartingWith("no loadable libopen_native for platform ")
          .hasMessageContaining("-riscv64; searched: system property open.native.library (not set); "
              + "classpath resource native/")
          .hasMessageEndingWith("-riscv64/libopen_native.so (not found)");
    } finally {
      restore("os.arch", previous);
    }
  }

  @Test
  void aBadBindingNameIsRefused() {
    NativeLoadException e = catchThrowableOfType(NativeLoadException.class,
        () -> NativeLibrary.load("jni"));
    assertThat(e).hasMessage("open.native.binding must be jnr or ffm, was 'jni'");
  }

  private static void restore(String key, String previous) {
    if (previous == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, previous);
    }
  }
}
