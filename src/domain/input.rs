//! Request fields read one by one the way a DRF serializer does.
//!
//! [`Input`] collects every problem under the field's name, so one response names all of
//! them: `{"email": ["This field is required."], "password": ["…"]}`. Unknown fields are
//! ignored; like DRF, numbers and booleans are also accepted as strings (form data has no
//! other kind). It knows nothing of HTTP: the REST adapter fills it from a body.

use serde_json::{Map, Value};

use crate::error::{ApiError, Validator};

pub const REQUIRED: &str = "This field is required.";

/// DRF's message for an id that names no object (of the caller's organization).
pub fn missing_pk(id: i64) -> String {
    format!("Invalid pk \"{id}\" - object does not exist.")
}
const NOT_NULL: &str = "This field may not be null.";

/// Reads fields out of a body object, collecting errors per field.
#[derive(Clone)]
pub struct Input {
    map: Map<String, Value>,
    errors: Validator,
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => Some(true),
            "false" | "0" | "off" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl Input {
    pub fn new(map: Map<String, Value>) -> Input {
        Input {
            map,
            errors: Validator::new(),
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    /// The raw value, for fields with a shape of their own.
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.map.get(field)
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// Keeps the value of a parse, or records its error under `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        self.errors.check(field, parsed)
    }

    /// A string that must be present and not null.
    pub fn required_str(&mut self, field: &str) -> Option<String> {
        match self.map.get(field) {
            None => {
                self.error(field, REQUIRED);
                None
            }
            Some(_) => self.nullable_str(field).and_then(|value| {
                if value.is_none() {
                    self.error(field, NOT_NULL);
                }
                value
            }),
        }
    }

    /// A string that may be absent (`None`); present but null is an error.
    pub fn optional_str(&mut self, field: &str) -> Option<String> {
        match self.nullable_str(field) {
            Some(None) => {
                self.error(field, NOT_NULL);
                None
            }
            other => other.flatten(),
        }
    }

    /// Absent: `None`; null: `Some(None)`; a string: `Some(Some(s))`.
    pub fn nullable_str(&mut self, field: &str) -> Option<Option<String>> {
        match self.map.get(field)? {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            Value::Number(n) => Some(Some(n.to_string())),
            _ => {
                self.error(field, "Not a valid string.");
                None
            }
        }
    }

    /// An integer that must be present.
    pub fn required_int(&mut self, field: &str) -> Option<i64> {
        if !self.has(field) {
            self.error(field, REQUIRED);
            return None;
        }
        match self.nullable_int(field) {
            Some(None) => {
                self.error(field, NOT_NULL);
                None
            }
            other => other.flatten(),
        }
    }

    /// Absent: `None`; null: `Some(None)`; an integer (or a string of one): `Some(Some(i))`.
    pub fn nullable_int(&mut self, field: &str) -> Option<Option<i64>> {
        let value = self.map.get(field)?;
        if value.is_null() || value.as_str().is_some_and(|s| s.is_empty()) {
            return Some(None);
        }
        match as_int(value) {
            Some(i) => Some(Some(i)),
            None => {
                self.error(field, "A valid integer is required.");
                None
            }
        }
    }

    /// A boolean that may be absent.
    pub fn optional_bool(&mut self, field: &str) -> Option<bool> {
        let value = self.map.get(field)?;
        match as_bool(value) {
            Some(b) => Some(b),
            None => {
                self.error(field, "Must be a valid boolean.");
                None
            }
        }
    }

    /// A list of ids, given as integers or as objects with an `id` (the shape the API
    /// answers with), absent meaning empty.
    pub fn id_list(&mut self, field: &str) -> Vec<i64> {
        let items = match self.map.get(field) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(single @ (Value::Number(_) | Value::String(_))) => vec![single.clone()],
            Some(_) => {
                self.error(field, "Expected a list of items.");
                return Vec::new();
            }
        };
        let mut ids = Vec::new();
        for item in &items {
            let id = match item {
                Value::Object(object) => object.get("id").and_then(as_int),
                other => as_int(other),
            };
            match id {
                Some(id) => ids.push(id),
                None => self.error(
                    field,
                    format!("Incorrect type. Expected pk value, received {item}."),
                ),
            }
        }
        ids
    }

    pub fn has_errors(&self) -> bool {
        self.errors.has_errors()
    }

    /// Fails with every collected field error, if any.
    pub fn finish(self) -> Result<(), ApiError> {
        self.errors.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: Value) -> Input {
        Input::new(value.as_object().unwrap().clone())
    }
    #[test]
    fn missing_null_and_mistyped_fields_are_each_named() {
        let mut i = input(json!({"b": null, "c": 5, "d": [1]}));
        assert_eq!(i.required_str("a"), None);
        assert_eq!(i.required_str("b"), None);
        assert_eq!(i.required_str("c").as_deref(), Some("5"));
        assert_eq!(i.required_str("d"), None);
        let ApiError::Validation(errors) = i.finish().unwrap_err() else {
            panic!()
        };
        assert_eq!(errors["a"], vec![REQUIRED]);
        assert_eq!(errors["b"], vec![NOT_NULL]);
        assert_eq!(errors["d"], vec!["Not a valid string."]);
        assert!(!errors.contains_key("c"));
    }

    #[test]
    fn numbers_and_booleans_may_come_as_strings() {
        let mut i = input(json!({"n": "42", "t": "true", "f": 0, "bad": "x"}));
        assert_eq!(i.required_int("n"), Some(42));
        assert_eq!(i.optional_bool("t"), Some(true));
        assert_eq!(i.optional_bool("f"), Some(false));
        assert_eq!(i.required_int("bad"), None);
        assert!(i.has_errors());
    }

    #[test]
    fn id_lists_take_ids_or_objects_with_ids() {
        let mut i = input(json!({"m": [1, "2", {"id": 3, "email": "x"}], "bad": [{"x": 1}]}));
        assert_eq!(i.id_list("m"), vec![1, 2, 3]);
        assert!(i.id_list("absent").is_empty());
        i.id_list("bad");
        assert!(i.has_errors());
    }
}
