//! Inline keyboards, independent of any transport.

use serde_json::Value;

use super::callback::Callback;

/// A button's label is plain text (Telegram does not parse markup in buttons).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action: ButtonAction,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ButtonAction {
    Callback(Callback),
    Url(String),
    /// `switch_inline_query`: opens the chat picker, then the chosen chat's input field
    /// with `@<bot> <query>` typed in (Bot API, `InlineKeyboardButton`), so the user picks
    /// what to share from the bot's inline answers (`bot/handlers/inline.rs`).
    SwitchInline(String),
}

impl Button {
    pub fn callback(label: impl Into<String>, callback: Callback) -> Button {
        Button { label: label.into(), action: ButtonAction::Callback(callback) }
    }

    /// A button that opens `url` (a deep link into the bot, say).
    pub fn url(label: impl Into<String>, url: impl Into<String>) -> Button {
        Button { label: label.into(), action: ButtonAction::Url(url.into()) }
    }

    /// A button that opens the chat picker to share what the inline `query` brings first.
    pub fn switch_inline(label: impl Into<String>, query: impl Into<String>) -> Button {
        Button { label: label.into(), action: ButtonAction::SwitchInline(query.into()) }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keyboard {
    rows: Vec<Vec<Button>>,
}

impl Keyboard {
    pub fn new() -> Keyboard {
        Keyboard::default()
    }

    /// Adds a row; an empty row is left out.
    pub fn row(mut self, buttons: Vec<Button>) -> Keyboard {
        if !buttons.is_empty() {
            self.rows.push(buttons);
        }
        self
    }

    /// Adds the buttons `per_row` to a row.
    pub fn grid(mut self, buttons: Vec<Button>, per_row: usize) -> Keyboard {
        let mut buttons = buttons.into_iter().peekable();
        while buttons.peek().is_some() {
            self = self.row(buttons.by_ref().take(per_row.max(1)).collect());
        }
        self
    }

    pub fn rows(&self) -> &[Vec<Button>] {
        &self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Cuts a label to `max` characters, marking the cut with an ellipsis.
pub fn short_label(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// An inline keyboard in the Bot API's `reply_markup` shape.
pub fn reply_markup(keyboard: &Keyboard) -> Value {
    let rows: Vec<Value> = keyboard
        .rows()
        .iter()
        .map(|row| {
            Value::Array(
                row.iter()
                    .map(|button| match &button.action {
                        ButtonAction::Callback(callback) => {
                            serde_json::json!({ "text": button.label, "callback_data": callback.encode() })
                        }
                        ButtonAction::Url(url) => serde_json::json!({ "text": button.label, "url": url }),
                        ButtonAction::SwitchInline(query) => {
                            serde_json::json!({ "text": button.label, "switch_inline_query": query })
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    serde_json::json!({ "inline_keyboard": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_fills_rows_and_drops_nothing() {
        let buttons: Vec<Button> = (0..5).map(|i| Button::callback(i.to_string(), Callback::Noop)).collect();
        let keyboard = Keyboard::new().grid(buttons, 2);
        let sizes: Vec<usize> = keyboard.rows().iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(short_label("冒充公检法诈骗", 5), "冒充公检…");
        assert_eq!(short_label("short", 5), "short");
    }
}
