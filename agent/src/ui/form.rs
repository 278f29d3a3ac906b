//! Reading `application/x-www-form-urlencoded` bodies. The period form's
//! field names are the catalog's indicator codes, known only at run time, so
//! forms are read as name/value pairs rather than into fixed structs.

use std::collections::HashMap;

/// A submitted form: the first value of each name.
#[derive(Debug, Default, Clone)]
pub struct Fields(HashMap<String, String>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Fields(map)
    }

    /// The value of `name`, with the browser's CRLF line ends made LF.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.replace("\r\n", "\n"))
    }

    /// The value of `name`, or "" when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_keeps_the_first_value() {
        let f = Fields::parse(b"title=H%E1%BB%99i+ngh%E1%BB%8B&a=1&a=2&note=x%0D%0Ay");
        assert_eq!(f.text("title"), "Hội nghị");
        assert_eq!(f.text("a"), "1");
        assert_eq!(f.text("note"), "x\ny");
        assert_eq!(f.get("missing"), None);
    }
}
