//! The compiled-in pages' wording, taken from the content in use (`[chat_page]`, `[staff_page]` in
//! `content/<language>.toml`, or an operator's reviewed copy) when a page is first asked for (see
//! [`super::compiled_page`]): written into the page's HTML, so it reads right before any script
//! runs, and served as the page's text script for the language toggle and everything the script
//! says later. The pages hold no wording.

use cbln_actors::content::{self, LANGUAGES, PageText, PageWording, Wording};
use cbln_actors::domain::Language;
use serde_json::{Map, Value};

/// Which page's wording.
pub type Pick = fn(&Wording) -> &PageWording;

/// `window.<global> = {"vi": {…}, "en": {…}};`: every language's texts for one page.
pub fn script(global: &str, pick: Pick) -> String {
    let languages: Map<String, Value> = LANGUAGES
        .iter()
        .map(|language| {
            let texts = pick(content::wording(*language))
                .iter()
                .map(|(key, text)| (key.clone(), json_of(text)))
                .collect::<Map<String, Value>>();
            (language.as_str().to_owned(), Value::Object(texts))
        })
        .collect();
    format!(
        "'use strict';\nwindow.{global} = {};\n",
        Value::Object(languages)
    )
}

fn json_of(text: &PageText) -> Value {
    match text {
        PageText::Text(text) => Value::String(text.clone()),
        PageText::Group(texts) => Value::Object(
            texts
                .iter()
                .map(|(code, text)| (code.clone(), Value::String(text.clone())))
                .collect(),
        ),
    }
}

/// `template` with the Vietnamese text of each `data-text="KEY"` element written in as its
/// content (HTML-escaped). Each such element is empty in the template; a key the wording lacks
/// stays empty rather than failing the page (the content tests prove every key is there).
pub fn render(template: &str, pick: Pick) -> String {
    const MARK: &str = "data-text=\"";
    let texts = pick(content::wording(Language::Vi));
    let mut html = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find(MARK) {
        let after = &rest[start + MARK.len()..];
        let Some(key_end) = after.find('"') else {
            break;
        };
        let key = &after[..key_end];
        let Some(tag_end) = after[key_end..].find('>') else {
            break;
        };
        let cut = start + MARK.len() + key_end + tag_end + 1;
        html.push_str(&rest[..cut]);
        if let Some(PageText::Text(text)) = texts.get(key) {
            escape_into(&mut html, text);
        }
        rest = &rest[cut..];
    }
    html.push_str(rest);
    html
}

fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            _ => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_marked_element_gets_its_vietnamese_text_escaped() {
        let html = render(
            "<title data-text=\"title\"></title><p data-text=\"nope\"></p><b>x</b>",
            |w| &w.chat_page,
        );
        assert_eq!(
            html,
            "<title data-text=\"title\">Cùng Bạn Lắng Nghe</title><p data-text=\"nope\"></p><b>x</b>"
        );
        let mut escaped = String::new();
        escape_into(&mut escaped, "a<b & \"c\">");
        assert_eq!(escaped, "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn the_script_holds_every_language_and_the_error_groups() {
        let script = script("CHAT_TEXT", |w| &w.chat_page);
        let json = script
            .strip_prefix("'use strict';\nwindow.CHAT_TEXT = ")
            .and_then(|s| s.strip_suffix(";\n"))
            .unwrap_or_default();
        let value: Value = serde_json::from_str(json).unwrap();
        assert_eq!(value["vi"]["send"], "Gửi");
        assert_eq!(value["en"]["send"], "Send");
        assert!(value["en"]["errors"]["default"].is_string());
    }
}
