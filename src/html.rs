//! Telegram's HTML parse mode: escaping what people typed, and reading HTML back as
//! plain text for the terminal console.

use std::fmt;

/// Text that is safe to send with `parse_mode=HTML`: either escaped, or a trusted template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// Escapes text that came from a user, an editor or the database.
    pub fn escape(text: &str) -> Html {
        Html(escape(text))
    }

    /// Marks a string as HTML already; only for Pingan's own templates and markup.
    pub(crate) fn trusted(html: String) -> Html {
        Html(html)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn push(&mut self, other: &Html) {
        self.0.push_str(&other.0);
    }

    pub fn push_text(&mut self, text: &str) {
        self.0.push_str(&escape(text));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Html {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Replaces the three characters Telegram's HTML parser gives meaning to.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// What a Telegram client would show for `html`, as plain text: tags dropped, entities
/// decoded, link targets written after their text.
pub fn to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut link_targets: Vec<Option<String>> = Vec::new();
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let Some(end) = rest.find('>') else {
                    out.push_str(rest);
                    break;
                };
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    if name.trim() == "a" {
                        if let Some(Some(href)) = link_targets.pop() {
                            out.push_str(&format!(" ({href})"));
                        }
                    }
                } else if tag.split_whitespace().next() == Some("a") {
                    link_targets.push(attribute(tag, "href").map(|h| decode_entities(&h)));
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest.find(';').filter(|&i| i <= 10);
                match end {
                    Some(end) => {
                        out.push_str(&decode_entities(&rest[..=end]));
                        rest = &rest[end + 1..];
                    }
                    None => {
                        out.push('&');
                        rest = &rest[1..];
                    }
                }
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(tag[start..start + len].to_owned())
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(escape("<b>x</b> & \"y\""), "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;");
        assert_eq!(escape("诈骗 110"), "诈骗 110");
    }

    #[test]
    fn plain_text_drops_tags_and_decodes_entities() {
        assert_eq!(to_plain("<b>注意</b> &lt;script&gt; &amp; more"), "注意 <script> & more");
        assert_eq!(to_plain("call <a href=\"tel:96110\">96110</a>"), "call 96110 (tel:96110)");
    }

    #[test]
    fn escaped_text_reads_back_as_typed() {
        let typed = "<b>x</b> & <script>alert(1)</script> &amp;";
        assert_eq!(to_plain(&escape(typed)), typed);
    }
}
