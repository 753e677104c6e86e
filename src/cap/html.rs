//! The little HTML that CAP feeds put in `<description>` and `<instruction>` (fire services
//! write `&lt;br /&gt;` for a line break), read as text.
//!
//! An allow-list, applied after the XML's own entities are resolved: `<br>`, `<br/>` and
//! `<br />` (any case, spaces allowed before `/` and `>`) become a line break; `<p>` and
//! `</p>` a paragraph break (a blank line); the named entities `&nbsp; &amp; &lt; &gt;
//! &quot; &apos;` and numeric ones (`&#233;`, `&#xE9;`, HTML 5 section 13.5) their
//! characters. Everything else that looks like HTML (`<b>`, `<a href>`, `&copy;`) is left as
//! it is written, and later escaped for Telegram like any text.

/// The tag at the start of `rest` if it is one of the allowed ones: its length and what it
/// becomes.
fn allowed_tag(rest: &str) -> Option<(usize, &'static str)> {
    let end = rest.bytes().take(8).position(|b| b == b'>')?;
    let inner = rest[1..end].trim_end();
    let (closing, name) = match inner.strip_prefix('/') {
        Some(name) => (true, name),
        None => (false, inner),
    };
    let name = name.strip_suffix('/').unwrap_or(name).trim_end();
    let replacement = match name.to_ascii_lowercase().as_str() {
        "br" if !closing => "\n",
        "p" if !inner.ends_with('/') => "\n\n",
        _ => return None,
    };
    Some((end + 1, replacement))
}

/// The entity at the start of `rest` if it is one of the allowed ones: its length and its
/// character.
fn allowed_entity(rest: &str) -> Option<(usize, char)> {
    let end = rest.bytes().take(12).position(|b| b == b';')?;
    let name = &rest[1..end];
    let c = match name {
        "nbsp" => '\u{a0}',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse::<u32>().ok()?,
            };
            char::from_u32(code).filter(|c| *c != '\0')?
        }
    };
    Some((end + 1, c))
}

/// `text` with its allowed HTML made text: line breaks and characters; the rest as is.
/// Runs of more than one blank line are made one.
pub fn to_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let converted = if rest.starts_with('<') {
            allowed_tag(rest).map(|(length, s)| {
                out.push_str(s);
                length
            })
        } else {
            allowed_entity(rest).map(|(length, c)| {
                out.push(c);
                length
            })
        };
        let length = converted.unwrap_or(1);
        if converted.is_none() {
            out.push_str(&rest[..1]);
        }
        rest = &rest[length..];
    }
    out.push_str(rest);
    // A paragraph tag next to line breaks should not leave a wall of blank lines.
    let lines: Vec<&str> = out.split('\n').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    for line in lines {
        let blank = line.trim().is_empty();
        if blank && kept.len() >= 2 && kept[kept.len() - 1].trim().is_empty() {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n").trim_matches('\n').to_owned()
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn line_breaks_and_entities_become_text_and_other_html_stays() {
        let cases = [
            ("Evacuate now.<br />Take water.", "Evacuate now.\nTake water."),
            ("a<br>b<BR/>c<br / >d", "a\nb\nc\nd"),
            ("<p>First.</p><p>Second.</p>", "First.\n\nSecond."),
            (
                "Fire&nbsp;Zone 3 &amp; 4 &lt;north&gt; &quot;A&quot; &apos;B&apos;",
                "Fire\u{a0}Zone 3 & 4 <north> \"A\" 'B'",
            ),
            ("caf&#233; &#xE9;t&#XE9;", "café été"),
            ("<b>bold</b> <a href=\"x\">link</a>", "<b>bold</b> <a href=\"x\">link</a>"),
            ("&copy; 2026 &unknown; & alone &#0; &#xZZ;", "&copy; 2026 &unknown; & alone &#0; &#xZZ;"),
            ("&lt;br /&gt; written as text", "<br /> written as text"),
            ("a <brx> b <br c", "a <brx> b <br c"),
            ("x<br><br><br><br>y", "x\n\ny"),
            ("平安<br/>提示", "平安\n提示"),
        ];
        for (input, text) in cases {
            assert_eq!(to_text(input), text, "{input:?}");
        }
    }
}
