//! Bank card and account numbers, and other accounts (payment, chat) a scammer asks
//! money to go to, stripped of the separators people write them with.

use std::fmt;

use super::phone::fold_width;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("an account number has between 5 and 40 letters and digits; {0:?} does not")]
    Length(String),
    #[error("{0:?} has characters an account number does not")]
    Characters(String),
    #[error("{0:?} reads as words; only digit groups are written with spaces")]
    Words(String),
}

impl AccountNumber {
    /// `6222 0212 3456 7890 128` and `6222-0212-3456-7890-128` are the same card;
    /// letters are compared without case (`WXID_Abc` is `wxid_abc`).
    pub fn parse(input: &str) -> Result<AccountNumber, AccountError> {
        let mut kept = String::new();
        let mut spaced = false;
        for c in input.trim().chars().map(fold_width) {
            match c {
                ' ' | '\u{a0}' => spaced = true,
                '-' => {}
                c if c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '.') => {
                    kept.push(c.to_ascii_lowercase())
                }
                _ => return Err(AccountError::Characters(input.trim().to_owned())),
            }
        }
        if spaced && !kept.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountError::Words(input.trim().to_owned()));
        }
        if !(5..=40).contains(&kept.len()) {
            return Err(AccountError::Length(input.trim().to_owned()));
        }
        Ok(AccountNumber(kept))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 16 to 19 digits passing the Luhn check, as bank cards do.
    pub fn is_bank_card(&self) -> bool {
        (16..=19).contains(&self.0.len()) && self.0.bytes().all(|b| b.is_ascii_digit()) && luhn(&self.0)
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

impl fmt::Display for AccountNumber {
    /// Digits in groups of four, as cards are printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.bytes().all(|b| b.is_ascii_digit()) {
            let groups: Vec<&str> =
                self.0.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
            f.write_str(&groups.join(" "))
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_do_not_make_another_account() {
        let card = AccountNumber::parse("6222 0212 3456 7890 128").unwrap();
        for written in
            ["6222-0212-3456-7890-128", "6222021234567890128", "６２２２ ０２１２ ３４５６ ７８９０ １２８"]
        {
            assert_eq!(AccountNumber::parse(written).unwrap(), card, "{written}");
        }
        assert_eq!(card.to_string(), "6222 0212 3456 7890 128");
        assert_eq!(AccountNumber::parse("WXID_Abc123").unwrap().as_str(), "wxid_abc123");
    }

    #[test]
    fn bank_cards_pass_the_luhn_check() {
        assert!(AccountNumber::parse("4111 1111 1111 1111").unwrap().is_bank_card());
        assert!(!AccountNumber::parse("4111 1111 1111 1112").unwrap().is_bank_card());
        assert!(!AccountNumber::parse("12345678").unwrap().is_bank_card());
    }

    #[test]
    fn bad_accounts_say_why() {
        assert!(matches!(AccountNumber::parse("12"), Err(AccountError::Length(_))));
        assert!(matches!(AccountNumber::parse("钱钱钱钱钱"), Err(AccountError::Characters(_))));
        assert!(matches!(AccountNumber::parse("not a value"), Err(AccountError::Words(_))));
    }
}
