//! Checks shared by every settings table: a value out of range is refused
//! with its key named, the way a user writes it in the file.

/// Refuses the first of `fields` (key, value) that is 0, naming it as
/// `{table}.{key}` (or `key` where `table` is empty).
pub fn require_positive(table: &str, fields: &[(&str, usize)]) -> Result<(), String> {
    match fields.iter().find(|(_, value)| *value == 0) {
        Some((key, _)) if table.is_empty() => Err(format!("{key}: must be at least 1")),
        Some((key, _)) => Err(format!("{table}.{key}: must be at least 1")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_zero() {
        assert_eq!(
            require_positive("train", &[("epochs", 1), ("batch_size", 4)]),
            Ok(())
        );
        assert_eq!(
            require_positive(
                "train",
                &[("epochs", 1), ("batch_size", 0), ("grad_accum", 0)]
            ),
            Err("train.batch_size: must be at least 1".to_string())
        );
        assert_eq!(
            require_positive("", &[("d_model", 0)]),
            Err("d_model: must be at least 1".to_string())
        );
    }
}
