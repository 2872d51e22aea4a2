//! Header text made comparable across exports (docs/IMPORT.md#columns): RVTools 3.x says
//! `Provisioned MB` and `Video Ram KB` where 4.x says `Provisioned MiB` and `Video Ram KiB`
//! (the same binary units), some headers carry trailing spaces (`Free % `), and case varies.

/// `header` trimmed, inner whitespace collapsed to one space, lower-cased, and a trailing
/// `mb`/`mib`/`kb`/`kib` unit made one: `Provisioned MB` and `provisioned  MiB` are both
/// `provisioned mib`.
pub fn normalize(header: &str) -> String {
    let words: Vec<String> = header
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .collect();
    let mut text = words.join(" ");
    for (old, new) in [(" mb", " mib"), (" kb", " kib")] {
        if text.ends_with(old) {
            text.truncate(text.len() - old.len());
            text.push_str(new);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_generations_and_stray_spaces_read_alike() {
        assert_eq!(normalize("Provisioned MB"), "provisioned mib");
        assert_eq!(normalize("Provisioned MiB"), "provisioned mib");
        assert_eq!(normalize("Video Ram KB"), "video ram kib");
        assert_eq!(normalize(" Free %  "), "free %");
        assert_eq!(normalize("Network #1"), "network #1");
        assert_eq!(normalize("CPU  Model"), "cpu model");
        // Only a trailing unit word changes.
        assert_eq!(normalize("MB free"), "mb free");
    }
}
