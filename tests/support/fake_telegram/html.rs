//! Telegram's HTML parse mode, as the Bot API applies it to `text` and `caption`.
//!
//! Supported tags are Telegram's own list. One deliberate strictness: a bare `&` that
//! does not start one of the entities Telegram documents is refused here, so that any
//! unescaped user text shows up in tests as the parse error it can cause in production.

/// The tags Telegram's HTML mode accepts.
const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
];

/// Parses `html` like the Bot API; returns the text a client would show, or the error
/// description Telegram would send (after "Bad Request: ").
pub fn parse(html: &str) -> Result<String, String> {
    let mut plain = String::with_capacity(html.len());
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < html.len() {
        match bytes[i] {
            b'<' => {
                let end = html[i..]
                    .find('>')
                    .map(|e| i + e)
                    .ok_or_else(|| cant_parse(format!("Unclosed start tag at byte offset {i}")))?;
                let inner = &html[i + 1..end];
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim();
                    match open.pop() {
                        Some(top) if top.eq_ignore_ascii_case(name) => {}
                        Some(top) => {
                            return Err(cant_parse(format!(
                                "Unmatched end tag at byte offset {i}, expected \"</{top}>\", found \"</{name}>\""
                            )));
                        }
                        None => {
                            return Err(cant_parse(format!("Unexpected end tag at byte offset {i}")));
                        }
                    }
                } else {
                    let name = inner.split_whitespace().next().unwrap_or("");
                    if !TAGS.iter().any(|t| t.eq_ignore_ascii_case(name)) {
                        return Err(cant_parse(format!(
                            "Unsupported start tag \"{name}\" at byte offset {i}"
                        )));
                    }
                    check_attributes(name, &inner[name.len()..], i)?;
                    open.push(name);
                }
                i = end + 1;
            }
            b'&' => {
                let (decoded, len) = entity(&html[i..])
                    .ok_or_else(|| cant_parse(format!("Unsupported HTML entity at byte offset {i}")))?;
                plain.push(decoded);
                i += len;
            }
            _ => {
                let c = html[i..].chars().next().unwrap_or_default();
                plain.push(c);
                i += c.len_utf8();
            }
        }
    }
    if let Some(top) = open.pop() {
        return Err(cant_parse(format!("Can't find end tag corresponding to start tag \"{top}\"")));
    }
    Ok(plain)
}

fn cant_parse(detail: String) -> String {
    format!("can't parse entities: {detail}")
}

/// `a` needs `href="…"`; other attributes must at least be well-formed `name="value"`.
fn check_attributes(tag: &str, attrs: &str, offset: usize) -> Result<(), String> {
    let mut rest = attrs.trim();
    let mut has_href = false;
    while !rest.is_empty() {
        let name_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'');
            let Some(q) = quote else {
                return Err(cant_parse(format!("Expected quoted attribute value at byte offset {offset}")));
            };
            let close = value[1..]
                .find(q)
                .ok_or_else(|| cant_parse(format!("Unclosed attribute value at byte offset {offset}")))?;
            rest = value[close + 2..].trim_start();
        }
        has_href |= name.eq_ignore_ascii_case("href");
    }
    if tag.eq_ignore_ascii_case("a") && !has_href {
        return Err(cant_parse(format!("Tag \"a\" must have attribute \"href\" at byte offset {offset}")));
    }
    Ok(())
}

/// The character an entity at the start of `text` stands for, and the entity's length.
fn entity(text: &str) -> Option<(char, usize)> {
    let end = text.find(';').filter(|&e| e <= 10)?;
    let body = &text[1..end];
    let c = match body {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let number = body.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// Telegram counts message length in UTF-16 code units.
pub fn telegram_length(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_telegram_markup_and_returns_the_shown_text() {
        assert_eq!(
            parse("<b>诈骗</b> &lt;x&gt; &amp; <a href=\"https://x.cn\">link</a>").unwrap(),
            "诈骗 <x> & link"
        );
        assert_eq!(parse("<pre><code class=\"language-rust\">x</code></pre>").unwrap(), "x");
        assert_eq!(parse("&#96;&#x41;").unwrap(), "`A");
    }

    #[test]
    fn refuses_what_telegram_refuses() {
        assert!(parse("<script>x</script>").unwrap_err().contains("Unsupported start tag \"script\""));
        assert!(parse("<b>x").unwrap_err().contains("Can't find end tag corresponding to start tag \"b\""));
        assert!(parse("<b><i>x</b></i>").unwrap_err().contains("Unmatched end tag"));
        assert!(parse("x</b>").is_err());
        assert!(parse("a & b").is_err());
        assert!(parse("<a>x</a>").is_err());
        assert!(parse("1 < 2").is_err());
    }

    #[test]
    fn counts_utf16_units() {
        assert_eq!(telegram_length("诈骗"), 2);
        assert_eq!(telegram_length("🚨"), 2);
    }
}
