//! Bounded, cleaned text: the titles, bodies and labels people type.
//!
//! Lengths are counted in Unicode characters, the unit editors see. Control characters
//! are refused (they break rendering and hide content); line breaks are allowed only
//! where the field is multi-line, and `\r\n` becomes `\n`.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is {got} characters long; at most {max} are allowed")]
    TooLong { field: &'static str, max: usize, got: usize },
    #[error("{field} contains a control character (U+{code:04X})")]
    ControlCharacter { field: &'static str, code: u32 },
    #[error("{field} must be a single line")]
    LineBreak { field: &'static str },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lines {
    Single,
    Multi,
}

/// Trims `input`, checks it against the limits and returns the cleaned text.
pub(crate) fn clean(field: &'static str, input: &str, max: usize, lines: Lines) -> Result<String, TextError> {
    let normalized = input.replace("\r\n", "\n");
    let text = normalized.trim();
    if text.is_empty() {
        return Err(TextError::Empty { field });
    }
    for c in text.chars() {
        match c {
            '\n' if lines == Lines::Single => return Err(TextError::LineBreak { field }),
            '\n' | '\t' => {}
            c if c.is_control() => {
                return Err(TextError::ControlCharacter { field, code: c as u32 });
            }
            _ => {}
        }
    }
    let got = text.chars().count();
    if got > max {
        return Err(TextError::TooLong { field, max, got });
    }
    Ok(text.to_owned())
}

/// Declares a newtype over `String` that can only hold cleaned text within its limits.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $field:literal, max = $max:expr, $lines:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, ::serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(input: &str) -> Result<Self, $crate::domain::text::TextError> {
                $crate::domain::text::clean(
                    $field,
                    input,
                    Self::MAX_CHARS,
                    $crate::domain::text::Lines::$lines,
                )
                .map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub(crate) use bounded_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_normalizes_line_endings() {
        assert_eq!(clean("body", "  a\r\nb  ", 10, Lines::Multi).unwrap(), "a\nb");
    }

    #[test]
    fn refuses_empty_long_and_control_text() {
        assert_eq!(clean("title", "   ", 5, Lines::Single), Err(TextError::Empty { field: "title" }));
        assert_eq!(
            clean("title", "诈骗诈骗诈骗", 5, Lines::Single),
            Err(TextError::TooLong { field: "title", max: 5, got: 6 })
        );
        assert_eq!(
            clean("title", "a\u{7}b", 5, Lines::Single),
            Err(TextError::ControlCharacter { field: "title", code: 7 })
        );
        assert_eq!(clean("title", "a\nb", 5, Lines::Single), Err(TextError::LineBreak { field: "title" }));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(clean("title", "诈骗诈骗诈", 5, Lines::Single).is_ok());
    }
}
