//! `keyword_enum!`: an enum whose every variant has one stored keyword, with parsing,
//! display and serde through that keyword. Used for severities, statuses, categories, …

use std::fmt;

/// A value that is not one of an enum's keywords.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {got:?}: expected one of {}", .expected.join(", "))]
pub struct UnknownKeyword {
    pub what: &'static str,
    pub got: String,
    pub expected: Vec<&'static str>,
}

/// Matches `input` against `keywords` ignoring ASCII case, and treating `-` as `_`.
pub(crate) fn match_keyword<T: Copy>(
    what: &'static str,
    input: &str,
    all: &[T],
    keyword: impl Fn(T) -> &'static str,
) -> Result<T, UnknownKeyword> {
    let wanted = input.trim().replace('-', "_");
    all.iter().copied().find(|v| keyword(*v).eq_ignore_ascii_case(&wanted)).ok_or_else(|| UnknownKeyword {
        what,
        got: input.to_owned(),
        expected: all.iter().map(|v| keyword(*v)).collect(),
    })
}

pub(crate) fn write_keyword(f: &mut fmt::Formatter<'_>, keyword: &str) -> fmt::Result {
    f.write_str(keyword)
}

macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $keyword:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The keyword this value is stored and typed as.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $keyword ),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::domain::keyword_enum::write_keyword(f, self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::keyword_enum::UnknownKeyword;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::domain::keyword_enum::match_keyword($what, s, $name::ALL, $name::as_str)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use keyword_enum;
