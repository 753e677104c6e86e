//! A rendered message as the outbox stores it: its parts, each HTML with an optional
//! inline keyboard already in the Bot API's shape, or a photo with the HTML as caption.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::html::Html;
use crate::render::keyboard::Keyboard;
use crate::render::keyboard::reply_markup;
use crate::telegram::api::PhotoSource;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub html: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Value>,
    /// A photo sent with `html` as its caption (a CAP alert's image). The sender goes on
    /// to the next part when Telegram refuses the photo itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<PhotoSource>,
}

impl Payload {
    /// The parts of a message, with `keyboard` under the last one.
    pub fn new(parts: Vec<Html>, keyboard: Option<&Keyboard>) -> Payload {
        let count = parts.len();
        let parts = parts
            .into_iter()
            .enumerate()
            .map(|(i, html)| Part {
                html: html.into_string(),
                reply_markup: keyboard.filter(|k| i + 1 == count && !k.is_empty()).map(reply_markup),
                photo: None,
            })
            .collect();
        Payload { parts }
    }

    /// The message with `photo` sent first, `caption` under it (at most 1024 characters
    /// once parsed: Telegram's limit for captions).
    pub fn with_photo_first(mut self, photo: PhotoSource, caption: Html) -> Payload {
        self.parts.insert(0, Part { html: caption.into_string(), reply_markup: None, photo: Some(photo) });
        self
    }

    pub fn to_json(&self) -> String {
        // A payload is strings and JSON values only; serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Payload, serde_json::Error> {
        serde_json::from_str(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::callback::Callback;
    use crate::render::keyboard::Button;

    #[test]
    fn the_keyboard_goes_under_the_last_part_and_survives_storage() {
        let keyboard = Keyboard::new().row(vec![Button::callback("1", Callback::LatestPage(0))]);
        let payload = Payload::new(vec![Html::escape("a"), Html::escape("b")], Some(&keyboard));
        assert!(payload.parts[0].reply_markup.is_none());
        assert_eq!(
            payload.parts[1].reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"],
            "l:0"
        );
        assert_eq!(Payload::from_json(&payload.to_json()).unwrap(), payload);
        let photo = PhotoSource::Url("https://example.org/map.png".into());
        let with_photo = payload.clone().with_photo_first(photo.clone(), Html::escape("map"));
        assert_eq!(with_photo.parts.len(), 3);
        assert_eq!(with_photo.parts[0].photo, Some(photo));
        assert_eq!(Payload::from_json(&with_photo.to_json()).unwrap(), with_photo);
        // Payloads stored before photos existed read as they did.
        assert!(!payload.to_json().contains("photo"));
    }
}
