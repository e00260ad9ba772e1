//! Domain-name decoding (RFC 1035 §3.1, §4.1.4) with bounded compression-pointer chasing.
//!
//! Invariants: every compression pointer must point strictly before the start of the label
//! run that contains it, so each hop moves backwards and no loop is possible; on top of that
//! the hop count, label count and wire length are bounded by named constants. The rendered
//! name keeps the wire case, has no trailing dot and is "" for the root.

use std::fmt::Write as _;

use super::DnsError;

/// Longest name in wire form (labels, length octets and the root octet), RFC 1035 §2.3.4.
/// Bounds the work and the rendered length of one name.
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// Most labels in one name: 127 one-octet labels fill [`MAX_NAME_WIRE_LEN`].
pub const MAX_LABELS: usize = 127;
/// Most compression pointers followed while reading one name. Backward-only pointers already
/// forbid loops; this bounds the work of a long chain of pointers to pointers.
pub const MAX_POINTER_HOPS: usize = 64;

/// Reads the name starting at `start` in `msg`, appending its text to `out`.
///
/// Returns the offset just after the name's bytes at `start` (after the first pointer, if the
/// name is compressed).
pub(super) fn read_name(msg: &[u8], start: usize, out: &mut String) -> Result<usize, DnsError> {
    let mut pos = start;
    // Start of the label run being read: pointers must target strictly before it.
    let mut run_start = start;
    let mut resume: Option<usize> = None;
    let mut wire_len = 1usize;
    let mut labels = 0usize;
    let mut hops = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(DnsError::Truncated)?;
        match len & 0xC0 {
            0x00 if len == 0 => {
                return Ok(resume.unwrap_or(pos.saturating_add(1)));
            }
            0x00 => {
                let len = usize::from(len);
                labels += 1;
                wire_len = wire_len.saturating_add(len + 1);
                if labels > MAX_LABELS || wire_len > MAX_NAME_WIRE_LEN {
                    return Err(DnsError::BadName);
                }
                let first = pos.checked_add(1).ok_or(DnsError::Truncated)?;
                let end = first.checked_add(len).ok_or(DnsError::Truncated)?;
                let label = msg.get(first..end).ok_or(DnsError::Truncated)?;
                if labels > 1 {
                    out.push('.');
                }
                push_label(out, label);
                pos = end;
            }
            0xC0 => {
                let lo = *msg.get(pos.saturating_add(1)).ok_or(DnsError::Truncated)?;
                let target = usize::from(len & 0x3F) << 8 | usize::from(lo);
                hops += 1;
                if target >= run_start || hops > MAX_POINTER_HOPS {
                    return Err(DnsError::BadName);
                }
                if resume.is_none() {
                    resume = Some(pos.saturating_add(2));
                }
                run_start = target;
                pos = target;
            }
            // 0x40 (extended label types, RFC 6891 deprecated them) and 0x80 (reserved).
            _ => return Err(DnsError::BadName),
        }
    }
}

/// Appends one label, escaping what must not reach a log or terminal verbatim.
///
/// Valid UTF-8 is kept (mDNS instance names such as "Lucas’s iPhone" are UTF-8), except
/// control and bidirectional-formatting characters, which are written as `\DDD` (decimal value
/// of each byte, RFC 1035 master-file syntax). Invalid UTF-8 bytes are escaped the same way.
/// A `.` or `\` inside a label is written as `\.` / `\\` so the label boundaries stay visible.
pub(super) fn push_label(out: &mut String, label: &[u8]) {
    push_text(out, label, true);
}

/// Appends `bytes` with the escaping of [`push_label`]; `escape_dot` is false for
/// character-strings (TXT, HINFO), where a dot is ordinary text.
pub(super) fn push_text(out: &mut String, bytes: &[u8], escape_dot: bool) {
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if ch == '\\' || (escape_dot && ch == '.') {
                out.push('\\');
                out.push(ch);
            } else if needs_escape(ch) {
                let mut buf = [0u8; 4];
                for &b in ch.encode_utf8(&mut buf).as_bytes() {
                    push_ddd(out, b);
                }
            } else {
                out.push(ch);
            }
        }
        for &b in chunk.invalid() {
            push_ddd(out, b);
        }
    }
}

fn needs_escape(ch: char) -> bool {
    ch.is_control()
        || matches!(ch, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn push_ddd(out: &mut String, b: u8) {
    let _ = write!(out, "\\{b:03}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_at(msg: &[u8], start: usize) -> Result<(String, usize), DnsError> {
        let mut s = String::new();
        let next = read_name(msg, start, &mut s)?;
        Ok((s, next))
    }

    #[test]
    fn root_is_empty() {
        assert_eq!(name_at(&[0], 0), Ok((String::new(), 1)));
    }

    #[test]
    fn backward_pointer_followed_and_resume_after_pointer() {
        // "ab.c" at 0, then "x" + pointer to 0 at 6.
        let msg = [2, b'a', b'b', 1, b'c', 0, 1, b'x', 0xC0, 0];
        assert_eq!(name_at(&msg, 0), Ok(("ab.c".into(), 6)));
        assert_eq!(name_at(&msg, 6), Ok(("x.ab.c".into(), 10)));
    }

    #[test]
    fn pointer_to_itself_or_forward_is_rejected() {
        assert_eq!(name_at(&[0xC0, 0], 0), Err(DnsError::BadName));
        assert_eq!(name_at(&[0xC0, 2, 0], 0), Err(DnsError::BadName));
        // A pointer into the label run that contains it (a loop through "a").
        assert_eq!(name_at(&[1, b'a', 0xC0, 0], 0), Err(DnsError::BadName));
    }

    #[test]
    fn escapes_dots_controls_and_invalid_utf8() {
        let msg = [4, b'a', b'.', 0x07, 0xFF, 0];
        assert_eq!(name_at(&msg, 0), Ok(("a\\.\\007\\255".into(), 6)));
        let utf8 = "Lucas’s iPhone".as_bytes();
        let mut s = String::new();
        push_label(&mut s, utf8);
        assert_eq!(s, "Lucas’s iPhone");
        s.clear();
        push_label(&mut s, "a\u{202E}b".as_bytes());
        assert_eq!(s, "a\\226\\128\\174b");
    }

    #[test]
    fn overlong_names_are_rejected() {
        // 128 one-octet labels: 257 wire bytes, over both limits.
        let mut msg = Vec::new();
        for _ in 0..128 {
            msg.extend_from_slice(&[1, b'a']);
        }
        msg.push(0);
        assert_eq!(name_at(&msg, 0), Err(DnsError::BadName));
        // Four 63-octet labels: 257 wire bytes.
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63);
            msg.extend_from_slice(&[b'b'; 63]);
        }
        msg.push(0);
        assert_eq!(name_at(&msg, 0), Err(DnsError::BadName));
    }

    #[test]
    fn reserved_label_types_and_truncation() {
        assert_eq!(name_at(&[0x40, 0], 0), Err(DnsError::BadName));
        assert_eq!(name_at(&[0x80, 0], 0), Err(DnsError::BadName));
        assert_eq!(name_at(&[3, b'a'], 0), Err(DnsError::Truncated));
        assert_eq!(name_at(&[1, b'a'], 0), Err(DnsError::Truncated));
        assert_eq!(name_at(&[0xC0], 0), Err(DnsError::Truncated));
        assert_eq!(name_at(&[], 0), Err(DnsError::Truncated));
    }
}
