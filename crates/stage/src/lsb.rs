//! The LSB header of an init script (`### BEGIN INIT INFO` ... `### END
//! INIT INFO`): what it provides and what must start before it.

/// The fields of a header that order a boot.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Header {
    pub provides: Vec<String>,
    pub required_start: Vec<String>,
    pub should_start: Vec<String>,
    pub start_before: Vec<String>,
}

/// Reads the header out of a script's text; `None` when it has none.
pub fn parse(text: &str) -> Option<Header> {
    let mut h = Header::default();
    let mut inside = false;
    let mut found = false;
    // a continuation line ("#   more names") extends the field above it
    let mut last: Option<Field> = None;
    for line in text.lines() {
        let t = line.trim_end();
        if t.starts_with("### BEGIN INIT INFO") {
            inside = true;
            found = true;
            continue;
        }
        if t.starts_with("### END INIT INFO") || (inside && !t.starts_with('#')) {
            break;
        }
        if !inside {
            continue;
        }
        let body = &t[1..];
        if let Some((key, value)) = body.split_once(':') {
            let key = key.trim();
            if !key.is_empty() && !key.contains(char::is_whitespace) {
                last = match key.to_ascii_lowercase().as_str() {
                    "provides" => Some(Field::Provides),
                    "required-start" => Some(Field::RequiredStart),
                    "should-start" => Some(Field::ShouldStart),
                    "x-start-before" => Some(Field::StartBefore),
                    _ => None,
                };
                if let Some(f) = last {
                    h.field(f)
                        .extend(value.split_whitespace().map(str::to_string));
                }
                continue;
            }
        }
        if body.starts_with("  ") || body.starts_with('\t') {
            if let Some(f) = last {
                h.field(f)
                    .extend(body.split_whitespace().map(str::to_string));
            }
        }
    }
    found.then_some(h)
}

#[derive(Clone, Copy)]
enum Field {
    Provides,
    RequiredStart,
    ShouldStart,
    StartBefore,
}

impl Header {
    fn field(&mut self, f: Field) -> &mut Vec<String> {
        match f {
            Field::Provides => &mut self.provides,
            Field::RequiredStart => &mut self.required_start,
            Field::ShouldStart => &mut self.should_start,
            Field::StartBefore => &mut self.start_before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_that_order_a_boot() {
        let text = "#!/bin/sh\n### BEGIN INIT INFO\n# Provides:          networking ifupdown\n\
# Required-Start:    mountkernfs $local_fs urandom\n# Required-Stop:     $local_fs\n\
# Should-Start:      udev-finish\n# X-Start-Before:    $network\n# Default-Start:     S\n\
# Short-Description: Raise network interfaces.\n### END INIT INFO\necho hi\n";
        let h = parse(text).unwrap();
        assert_eq!(h.provides, ["networking", "ifupdown"]);
        assert_eq!(h.required_start, ["mountkernfs", "$local_fs", "urandom"]);
        assert_eq!(h.should_start, ["udev-finish"]);
        assert_eq!(h.start_before, ["$network"]);
    }

    #[test]
    fn continuation_lines_and_no_header() {
        let text =
            "### BEGIN INIT INFO\n# Provides: a\n# Required-Start: b\n#   c d\n### END INIT INFO\n";
        let h = parse(text).unwrap();
        assert_eq!(h.required_start, ["b", "c", "d"]);
        assert_eq!(parse("#!/bin/sh\necho no header\n"), None);
        // an empty field names nothing
        let h = parse("### BEGIN INIT INFO\n# Provides: x\n# Required-Start:\n### END INIT INFO\n")
            .unwrap();
        assert!(h.required_start.is_empty());
    }
}
