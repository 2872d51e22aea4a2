//! Markup written as text, for views of hundreds of static rows (a plan's timeline and
//! placement): the browser parses one string far faster than the elements are built one by
//! one (docs/PERFORMANCE.md#issue-13--maintenance-plans). Every text and attribute value
//! goes through [`escape`].

use std::fmt::Write;

/// `s` safe inside an element or a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A string of markup being written.
#[derive(Debug, Default)]
pub struct Markup(String);

impl Markup {
    pub fn with_capacity(n: usize) -> Self {
        Markup(String::with_capacity(n))
    }

    /// `<tag a="v"…>` with its attributes' values escaped (`None` values left out).
    pub fn open(&mut self, tag: &str, attributes: &[(&str, Option<&str>)]) -> &mut Self {
        let _ = write!(self.0, "<{tag}");
        for (name, value) in attributes {
            if let Some(v) = value {
                let _ = write!(self.0, " {name}=\"{}\"", escape(v));
            }
        }
        self.0.push('>');
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.0.push_str(&escape(s));
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.0, "</{tag}>");
        self
    }

    /// `<tag …>text</tag>`.
    pub fn element(
        &mut self,
        tag: &str,
        attributes: &[(&str, Option<&str>)],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attributes).text(text).close(tag)
    }

    pub fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut m = Markup::default();
        m.element(
            "td",
            &[("data-vm", Some("a\"b<c>")), ("title", None)],
            "x & <y>",
        );
        assert_eq!(
            m.finish(),
            "<td data-vm=\"a&quot;b&lt;c&gt;\">x &amp; &lt;y&gt;</td>"
        );
        assert_eq!(escape("it's"), "it&#39;s");
    }
}
