//! Drawing the four pages with embedded-graphics' ISO 8859-1 6×10 mono font: six text rows
//! of 21 columns, a row drawn inverted as a heading. Text reaches [`Canvas::row`] already
//! fitted to the row by [`super::text`]; the `…` the fonts lack is drawn as three dots.
//!
//! The join page's QR code comes from `qrcodegen` (Nayuki's reference encoder, no
//! dependencies); its dark modules are drawn unlit on a lit quiet zone, as a phone camera
//! expects a printed code.

use embedded_graphics::mono_font::{iso_8859_1::FONT_6X10, MonoTextStyle};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Baseline, Text};
use qrcodegen::{QrCode, QrCodeEcc};

use super::text::{compact, duration, fit_domain, fit_words, left_right, ELLIPSIS};
use super::{kind_label, DisplayData, Page, HEIGHT, WIDTH};

/// Width of one character cell of FONT_6X10, in pixels.
const CHAR_W: u32 = 6;
/// Height of one text row, in pixels (the font's cell height).
const ROW_H: u32 = 10;
/// Columns of text across the full display width.
const COLS: usize = (WIDTH / CHAR_W) as usize;
/// Blank pixels above the first row: centres the six rows (60 px) on the 64 px display.
const TOP: u32 = 2;
/// Lit border around the QR code, in pixels at least (the quiet zone).
const QR_QUIET: u32 = 2;

/// Draws `page` of `data` on `target`, clearing it first.
pub fn render<D>(page: Page, data: &DisplayData, target: &mut D) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    target.clear(BinaryColor::Off)?;
    let mut c = Canvas { target };
    match page {
        Page::Status => status(data, &mut c),
        Page::Alerts => alerts(data, &mut c),
        Page::Devices => devices(data, &mut c),
        Page::Join => join(data, &mut c),
    }
}

/// The text a Wi-Fi QR code carries: `WIFI:T:WPA;S:<ssid>;P:<pass>;;`, with `\ ; , " :`
/// escaped by a backslash as the format requires.
pub fn wifi_qr_payload(ssid: &str, passphrase: &str) -> String {
    fn esc(s: &str, out: &mut String) {
        for ch in s.chars() {
            if matches!(ch, '\\' | ';' | ',' | '"' | ':') {
                out.push('\\');
            }
            out.push(ch);
        }
    }
    let mut out = String::from("WIFI:T:WPA;S:");
    esc(ssid, &mut out);
    out.push_str(";P:");
    esc(passphrase, &mut out);
    out.push_str(";;");
    out
}

/// A draw target with text-row helpers.
struct Canvas<'a, D> {
    target: &'a mut D,
}

impl<D: DrawTarget<Color = BinaryColor>> Canvas<'_, D> {
    /// Draws `text` (already fitted) at text row `row`, from pixel column `x`; `heading`
    /// draws it unlit on a lit bar across the display.
    fn row(&mut self, row: u32, x: u32, text: &str, heading: bool) -> Result<(), D::Error> {
        let y = TOP + row * ROW_H;
        let (fg, bg) = if heading {
            (BinaryColor::Off, BinaryColor::On)
        } else {
            (BinaryColor::On, BinaryColor::Off)
        };
        if heading {
            Rectangle::new(Point::new(0, y as i32), Size::new(WIDTH, ROW_H))
                .into_styled(PrimitiveStyle::with_fill(bg))
                .draw(self.target)?;
        }
        let style = MonoTextStyle::new(&FONT_6X10, fg);
        let mut col = x;
        for (i, part) in text.split(ELLIPSIS).enumerate() {
            if i > 0 {
                // Three dots on the baseline of one cell.
                for dx in [0, 2, 4] {
                    Pixel(Point::new((col + dx) as i32, (y + 7) as i32), fg).draw(self.target)?;
                }
                col += CHAR_W;
            }
            let pos = Point::new(col as i32, y as i32);
            Text::with_baseline(part, pos, style, Baseline::Top).draw(self.target)?;
            col += CHAR_W * part.chars().count() as u32;
        }
        Ok(())
    }
}

/// Page 1: the SSID as heading, then clients, uptime, packets/s, drops and the SSH address.
fn status<D: DrawTarget<Color = BinaryColor>>(
    d: &DisplayData,
    c: &mut Canvas<'_, D>,
) -> Result<(), D::Error> {
    c.row(0, 0, &fit_words(&d.ssid, COLS), true)?;
    let up = d
        .uptime_secs
        .map_or_else(|| "capture down".into(), duration);
    let pps = d.packets_per_sec.map_or_else(|| "-".into(), compact);
    let ssh = d.ssh_address.as_deref().unwrap_or("-");
    c.row(1, 0, &format!("Clients {}", compact(d.clients)), false)?;
    c.row(2, 0, &format!("Up {up}"), false)?;
    c.row(3, 0, &format!("Packets/s {pps}"), false)?;
    c.row(4, 0, &format!("Drops {}", compact(d.drops)), false)?;
    c.row(5, 0, &fit_domain(&format!("SSH {ssh}"), COLS), false)
}

/// Page 2: per alert a heading (device, age), kind and country, destination.
fn alerts<D: DrawTarget<Color = BinaryColor>>(
    d: &DisplayData,
    c: &mut Canvas<'_, D>,
) -> Result<(), D::Error> {
    if d.alerts.is_empty() {
        c.row(0, 0, "Alerts", true)?;
        return c.row(2, 0, "No alerts", false);
    }
    for (a, row) in d.alerts.iter().zip([0, 3]) {
        let age = duration(a.age_secs);
        c.row(row, 0, &left_right(&a.device, &age, COLS), true)?;
        let country = a.country.as_deref().unwrap_or("");
        c.row(
            row + 1,
            0,
            &left_right(kind_label(&a.kind), country, COLS),
            false,
        )?;
        c.row(row + 2, 0, &fit_domain(&a.destination, COLS), false)?;
    }
    Ok(())
}

/// Page 3: per device a heading (name, flows), leaks and trackers, countries.
fn devices<D: DrawTarget<Color = BinaryColor>>(
    d: &DisplayData,
    c: &mut Canvas<'_, D>,
) -> Result<(), D::Error> {
    if d.devices.is_empty() {
        c.row(0, 0, "Devices", true)?;
        return c.row(2, 0, "No devices yet", false);
    }
    for (dev, row) in d.devices.iter().zip([0, 3]) {
        let flows = format!("{} flows", compact(dev.flows));
        c.row(row, 0, &left_right(&dev.name, &flows, COLS), true)?;
        let counts = format!(
            "{} leaks {} trackers",
            compact(dev.leaks),
            compact(dev.trackers)
        );
        c.row(row + 1, 0, &fit_words(&counts, COLS), false)?;
        let countries = if dev.countries.is_empty() {
            "no country known".to_owned()
        } else {
            dev.countries.join(" ")
        };
        c.row(row + 2, 0, &fit_words(&countries, COLS), false)?;
    }
    Ok(())
}

/// Page 4: the join QR code on the left square, "Join Wi-Fi" and the SSID (wrapped, never
/// cut: an SSID is at most 32 bytes) on the right.
fn join<D: DrawTarget<Color = BinaryColor>>(
    d: &DisplayData,
    c: &mut Canvas<'_, D>,
) -> Result<(), D::Error> {
    if d.passphrase.is_empty() {
        // No code for a network nobody could join with it.
        c.row(0, 0, "Join Wi-Fi", true)?;
        c.row(1, 0, &fit_words(&d.ssid, COLS), false)?;
        c.row(3, 0, "No passphrase set:", false)?;
        return c.row(4, 0, "[ap] passphrase", false);
    }
    let payload = wifi_qr_payload(&d.ssid, &d.passphrase);
    let qr = QrCode::encode_text(&payload, QrCodeEcc::Low).ok();
    // The largest whole module size that leaves the quiet zone inside the 64 px square.
    let fit = qr.as_ref().and_then(|q| {
        let size = u32::try_from(q.size()).ok()?;
        let scale = HEIGHT.saturating_sub(2 * QR_QUIET) / size.max(1);
        (scale > 0).then_some((q, size, scale))
    });
    let text_x = HEIGHT + 2;
    let text_cols = ((WIDTH - text_x) / CHAR_W) as usize;
    let Some((q, size, scale)) = fit else {
        c.row(0, 0, "Join Wi-Fi", true)?;
        c.row(2, 0, "QR code too long", false)?;
        return c.row(3, 0, &fit_words(&d.ssid, COLS), false);
    };
    Rectangle::new(Point::zero(), Size::new(HEIGHT, HEIGHT))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(c.target)?;
    let origin = (HEIGHT - size * scale) / 2;
    let dark = (0..size).flat_map(|y| (0..size).map(move |x| (x, y)));
    let pixels = dark
        .filter(|&(x, y)| q.get_module(x as i32, y as i32))
        .flat_map(|(x, y)| {
            let (px, py) = (origin + x * scale, origin + y * scale);
            (0..scale).flat_map(move |dy| (0..scale).map(move |dx| (px + dx, py + dy)))
        })
        .map(|(x, y)| Pixel(Point::new(x as i32, y as i32), BinaryColor::Off));
    c.target.draw_iter(pixels)?;
    c.row(0, text_x, "Join", false)?;
    c.row(1, text_x, "Wi-Fi:", false)?;
    for (i, line) in wrap(&d.ssid, text_cols).iter().take(4).enumerate() {
        c.row(2 + i as u32, text_x, line, false)?;
    }
    Ok(())
}

/// Wraps `s` into lines of at most `cols` characters, at spaces where it can and inside a
/// word only when the word is longer than a line (nothing is dropped).
fn wrap(s: &str, cols: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let wlen = word.chars().count();
        let clen = cur.chars().count();
        if clen > 0 && clen + 1 + wlen <= cols {
            cur.push(' ');
            cur.push_str(word);
            continue;
        }
        if clen > 0 {
            lines.push(std::mem::take(&mut cur));
        }
        let mut chars = word.chars().peekable();
        while chars.peek().is_some() {
            let piece: String = chars.by_ref().take(cols.max(1)).collect();
            if chars.peek().is_some() {
                lines.push(piece);
            } else {
                cur = piece;
            }
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_payload_escapes_separators() {
        assert_eq!(
            wifi_qr_payload("Café;Bar", r"p\ss:1,2"),
            r"WIFI:T:WPA;S:Café\;Bar;P:p\\ss\:1\,2;;"
        );
    }

    #[test]
    fn wrap_keeps_every_character() {
        assert_eq!(wrap("Hotel Lobby Guest", 10), ["Hotel", "Lobby", "Guest"]);
        assert_eq!(wrap("phonehome-travel", 10), ["phonehome-", "travel"]);
        assert_eq!(wrap("a b", 10), ["a b"]);
    }
}
