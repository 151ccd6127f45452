/**
 * The in-memory image every preprocessing step passes along: interleaved samples in the mode
 * Pillow would hold the picture in after `Image.open`, because resizing happens in that mode.
 */

/**
 * Pillow modes we reproduce.
 * - `1`, `L`: one channel (0/255 for `1`); `LA`: grey + alpha; `RGB`, `RGBA`, `CMYK`.
 * - `P`: palette image, stored already expanded to its RGB colours (3 channels); Pillow keeps
 *   indices, but it resizes `P` with nearest neighbour, which picks whole pixels, so
 *   expanding first gives the same colours.
 * - `I`: 32-bit signed integers (16-bit grey PNG/PGM, signed 16- and 32-bit TIFF), one channel, in an `Int32Array`.
 * - `F`: 32-bit floats (floating-point grey TIFF), one channel, in a `Float32Array`.
 */
export type PilMode = '1' | 'L' | 'LA' | 'P' | 'RGB' | 'RGBA' | 'CMYK' | 'I' | 'F';

export type Channels = 1 | 2 | 3 | 4;

/** Pixels as [height, width, channels] row-major, interleaved. */
export interface RawImage {
  width: number;
  height: number;
  channels: Channels;
  mode: PilMode;
  /** `Int32Array` for mode `I`, `Float32Array` for `F`, `Uint8Array` otherwise; length width·height·channels. */
  data: Uint8Array | Int32Array | Float32Array;
  /**
   * The size `Image.open` reports before loading, where loading changes it: a TIFF with
   * Orientation 5–8 is transposed on load, and torchvision's `Resize` plans from this size.
   */
  openedSize?: { width: number; height: number };
}

/** Channel count Pillow's mode implies in our storage. */
export function channelsOf(mode: PilMode): Channels {
  switch (mode) {
    case '1':
    case 'L':
    case 'I':
    case 'F':
      return 1;
    case 'LA':
      return 2;
    case 'P':
    case 'RGB':
      return 3;
    case 'RGBA':
    case 'CMYK':
      return 4;
  }
}
