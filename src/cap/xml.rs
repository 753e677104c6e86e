//! Reading XML into a small tree of elements by local name (so `cap:info` and `info` are
//! the same), with line and column for errors. Elements from other namespaces (an XML
//! signature, say) are kept but ignored by whoever does not ask for them.

use quick_xml::Reader;
use quick_xml::events::Event;

/// An element: its local name, its text, and its children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child called `name`, if it has any.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned()).filter(|t| !t.is_empty())
    }
}

/// Where in the file something went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {reason}")]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// The line and column of byte `offset`. The parser may name an offset inside a
/// character (in `😀` after a stray `</`); that character's own position is given then.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses a whole document into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let fail = |offset: u64, reason: String| {
        let (line, column) = position(text, offset as usize);
        XmlError { line, column, reason }
    };
    loop {
        let event = reader.read_event().map_err(|e| fail(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(start) => {
                stack.push(Element { name: start.local_name().as_ref().to_owned(), ..Element::default() });
            }
            Event::Empty(start) => {
                let element = Element { name: start.local_name().as_ref().to_owned(), ..Element::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| fail(reader.buffer_position(), "an end tag with no start".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match r.into_inner().as_ref() {
                        "amp" => "&".to_owned(),
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "quot" => "\"".to_owned(),
                        "apos" => "'".to_owned(),
                        other => {
                            return Err(fail(reader.buffer_position(), format!("unknown entity &{other};")));
                        }
                    },
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(fail(text.len() as u64, format!("<{}> is never closed", stack[stack.len() - 1].name)));
    }
    root.ok_or_else(|| fail(0, "no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_local_names_text_and_entities() {
        let root = parse("<?xml version=\"1.0\"?>\n<cap:alert xmlns:cap=\"urn:x\"><cap:a>x &amp; y &#x41;</cap:a><b/></cap:alert>").unwrap();
        assert_eq!(root.name, "alert");
        assert_eq!(root.text_of("a").as_deref(), Some("x & y A"));
        assert!(root.child("b").is_some());
    }

    #[test]
    fn errors_say_where() {
        let err = parse("<alert>\n  <a>text</b>\n</alert>").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err = parse("<alert>\n<a>").unwrap_err();
        assert!(err.reason.contains("never closed") || err.line >= 2, "{err}");
    }

    #[test]
    fn an_error_inside_a_character_is_placed_on_that_character() {
        // The parser names a byte inside the emoji after the stray `</`.
        let err = parse("\u{feff};&#x1F600;😀😀=</>").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
        for offset in 0..=8 {
            let (line, column) = position("a😀\n平安", offset);
            assert!(line <= 2 && column <= 3, "{offset}: {line}:{column}");
        }
        assert_eq!(position("a😀\n平安", 3), (1, 2), "inside the emoji: the emoji");
        assert_eq!(position("a😀\n平安", 7), (2, 1), "inside 平: 平");
    }
}
