//! Bytes to text, as XML 1.0 says a document names its encoding (XML 1.0 section 4.3.3 and
//! appendix F): a byte-order mark first, then the XML declaration's `encoding`, else UTF-8.
//!
//! Decoding is done here, with `encoding_rs` (the WHATWG Encoding Standard's labels and
//! decoders), before any text reaches quick-xml, so the XML reader sees UTF-8 whether or
//! not quick-xml's own `encoding` feature is on. Following the Encoding Standard, the label
//! `ISO-8859-1` decodes as windows-1252, its superset (they differ only in the C1 controls,
//! which no alert carries as text).

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::xml::XmlError;

fn refused(line: usize, column: usize, reason: impl Into<String>) -> XmlError {
    XmlError { line, column, reason: reason.into() }
}

/// The value of `encoding` in the XML declaration that opens `head`, if there is one.
/// `head` is the start of the document as text (ASCII is enough to read a declaration).
fn declared_encoding(head: &str) -> Option<String> {
    let declaration = head.strip_prefix("<?xml")?;
    if !declaration.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let declaration = &declaration[..declaration.find("?>")?];
    let at = declaration.find("encoding")?;
    let rest = declaration[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

/// The start of `bytes` read as ASCII (anything else stops it): enough for a declaration.
fn ascii_head(bytes: &[u8]) -> String {
    bytes.iter().take(512).take_while(|b| b.is_ascii()).map(|b| char::from(*b)).collect()
}

fn is_utf16(encoding: &'static Encoding) -> bool {
    encoding == UTF_16LE || encoding == UTF_16BE
}

/// Decodes a whole document, refusing (with line, column and reason) a declaration naming
/// an encoding the Encoding Standard does not know, one the byte-order mark or the first
/// bytes contradict, and bytes that are not valid in the encoding used.
pub fn decode(bytes: &[u8]) -> Result<String, XmlError> {
    // A byte-order mark, or UTF-16 without one (`<?` as 3C 00 3F 00 or 00 3C 00 3F).
    let sniffed = match Encoding::for_bom(bytes) {
        Some((encoding, length)) => Some((encoding, length, "byte-order mark says")),
        None if bytes.starts_with(&[0x3C, 0, 0x3F, 0]) => Some((UTF_16LE, 0, "first bytes say")),
        None if bytes.starts_with(&[0, 0x3C, 0, 0x3F]) => Some((UTF_16BE, 0, "first bytes say")),
        None => None,
    };
    let (encoding, body) = match sniffed {
        Some((encoding, length, _)) => (encoding, &bytes[length..]),
        None => match declared_encoding(&ascii_head(bytes)) {
            None => (UTF_8, bytes),
            Some(label) => {
                let encoding = Encoding::for_label(label.trim().as_bytes())
                    .filter(|e| e.output_encoding() == *e || is_utf16(e))
                    .ok_or_else(|| {
                        refused(1, 1, format!("the declared encoding {label:?} is not one Pingan knows"))
                    })?;
                if is_utf16(encoding) {
                    return Err(refused(
                        1,
                        1,
                        format!("declared {label:?}, but the file has no byte-order mark and is not UTF-16"),
                    ));
                }
                (encoding, bytes)
            }
        },
    };
    let text = decode_all(encoding, body)?;
    if let Some((_, _, by)) = sniffed
        && let Some(label) = declared_encoding(&text)
    {
        let declared = Encoding::for_label(label.trim().as_bytes());
        let agrees = declared.is_some_and(|d| d == encoding || (is_utf16(d) && is_utf16(encoding)));
        if !agrees {
            return Err(refused(
                1,
                1,
                format!("the {by} {}, but the declaration says {label:?}", encoding.name()),
            ));
        }
    }
    Ok(text)
}

/// All of `bytes` in `encoding`, or where the first byte that is not valid in it stands.
fn decode_all(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, XmlError> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len());
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(text),
        encoding_rs::DecoderResult::Malformed(length, _) => {
            let line = text.matches('\n').count() + 1;
            let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let at = read.saturating_sub(usize::from(length));
            Err(refused(line, column, format!("byte {at} is not valid {}", encoding.name())))
        }
        // The buffer was sized for the whole input; this is not reached.
        encoding_rs::DecoderResult::OutputFull => {
            Err(refused(1, 1, format!("the text does not fit once decoded from {}", encoding.name())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut units: Vec<u16> = Vec::new();
        if bom {
            units.push(0xFEFF);
        }
        units.extend(text.encode_utf16());
        units.iter().flat_map(|u| if big_endian { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    }

    #[test]
    fn documents_are_read_in_the_encoding_they_name() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>平安 ü</a>";
        let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><a>Z\xfcrich \xe9t\xe9</a>".to_vec();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("UTF-8, no declaration", "<a>平安</a>".as_bytes().to_vec(), "<a>平安</a>"),
            ("UTF-8 with a BOM", [&[0xEF, 0xBB, 0xBF][..], "<a>平安</a>".as_bytes()].concat(), "<a>平安</a>"),
            ("ISO-8859-1", latin1, "<a>Zürich été</a>"),
            ("UTF-16LE with a BOM", utf16(xml, false, true), "<a>平安 ü</a>"),
            ("UTF-16BE with a BOM", utf16(xml, true, true), "<a>平安 ü</a>"),
            ("UTF-16LE without a BOM", utf16(xml, false, false), "<a>平安 ü</a>"),
        ];
        for (what, bytes, ends) in cases {
            let text = decode(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(text.ends_with(ends), "{what}: {text:?}");
            assert!(!text.starts_with('\u{feff}'), "{what}: the mark is not text");
        }
    }

    #[test]
    fn unknown_and_lying_declarations_are_refused_with_a_reason() {
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "unknown",
                b"<?xml version=\"1.0\" encoding=\"EBCDIC-XY\"?><a/>".to_vec(),
                "is not one Pingan knows",
            ),
            (
                "UTF-16 with no BOM",
                b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>".to_vec(),
                "no byte-order mark",
            ),
            (
                "a UTF-16 BOM that says otherwise",
                utf16("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", false, true),
                "the byte-order mark says UTF-16LE, but the declaration says \"ISO-8859-1\"",
            ),
            (
                "Latin-1 bytes called UTF-8",
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>Z\xfcrich</a>".to_vec(),
                "byte 43 is not valid UTF-8",
            ),
            ("Latin-1 bytes undeclared", b"<a>\n\n ok \xe9</a>".to_vec(), "is not valid UTF-8"),
        ];
        for (what, bytes, reason) in cases {
            let err = decode(&bytes).unwrap_err();
            assert!(err.reason.contains(reason), "{what}: {err}");
        }
        let err = decode(b"<a>\n\n ok \xe9</a>").unwrap_err();
        assert_eq!((err.line, err.column), (3, 5), "{err}");
    }
}
