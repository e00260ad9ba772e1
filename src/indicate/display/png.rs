//! PNG export of a page: render into a 128×64 1-bit framebuffer, scale each pixel to a
//! [`SCALE`]×[`SCALE`] block so a person can read it, and encode an 8-bit grayscale PNG (lit
//! pixels white, as on the OLED). Memory is fixed: the framebuffer is 1 KiB and the scaled
//! image 128 KiB.

use std::io::Write;

use embedded_graphics::framebuffer::{buffer_size, Framebuffer};
use embedded_graphics::image::GetPixel;
use embedded_graphics::pixelcolor::raw::{BigEndian, RawU1};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::Point;

use super::{render, DisplayData, Page, HEIGHT, WIDTH};

/// Magnification of the PNG: each display pixel becomes a 4×4 block (512×256).
pub const SCALE: u32 = 4;

/// A 128×64 one-bit frame, the same pixels the OLED shows.
pub type Frame = Framebuffer<
    BinaryColor,
    RawU1,
    BigEndian,
    { WIDTH as usize },
    { HEIGHT as usize },
    { buffer_size::<BinaryColor>(WIDTH as usize, HEIGHT as usize) },
>;

/// Renders `page` of `data` into a new frame.
pub fn render_frame(page: Page, data: &DisplayData) -> Frame {
    let mut fb = Frame::new();
    // Drawing into a framebuffer cannot fail: its error type is Infallible.
    let Ok(()) = render(page, data, &mut fb);
    fb
}

/// The frame scaled by [`SCALE`] as 8-bit gray rows (0 unlit, 255 lit), row-major.
pub fn scaled_gray(fb: &Frame) -> Vec<u8> {
    let w = (WIDTH * SCALE) as usize;
    let mut out = Vec::with_capacity(w * (HEIGHT * SCALE) as usize);
    for y in 0..HEIGHT * SCALE {
        for x in 0..WIDTH * SCALE {
            let p = Point::new((x / SCALE) as i32, (y / SCALE) as i32);
            let lit = fb.pixel(p) == Some(BinaryColor::On);
            out.push(if lit { 255 } else { 0 });
        }
    }
    out
}

/// Writes `fb` scaled by [`SCALE`] as an 8-bit grayscale PNG of 512×256 to `w`.
pub fn write_png<W: Write>(fb: &Frame, w: W) -> Result<(), png::EncodingError> {
    let mut enc = png::Encoder::new(w, WIDTH * SCALE, HEIGHT * SCALE);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    writer.write_image_data(&scaled_gray(fb))?;
    writer.finish()
}
