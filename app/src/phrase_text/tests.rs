use super::*;

#[test]
fn every_phrase_reads_in_english_as_the_api_says_it_and_in_french() {
    for (code, english) in domain::phrase::ENGLISH {
        assert_eq!(template_in(Locale::en, code), Some(*english), "{code}");
        let french = template_in(Locale::fr, code).expect(code);
        // Templates of values alone ("{host}", "{reason} ({taken})") read the same.
        let letters = |t: &str| {
            let mut depth = 0;
            t.chars()
                .filter(|c| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => return depth == 0 && c.is_alphabetic(),
                    }
                    false
                })
                .count()
        };
        if letters(english) > 0 {
            assert_ne!(french, *english, "{code}: not translated");
        }
    }
}

#[test]
fn a_phrase_with_parts_words_them_all_in_french() {
    let args = [("vm".to_string(), "db-01".to_string())].into();
    let p = Phrase::new("plan.note.stays_where_it_went", &[("vm", "web-01".into())]).with(
        "reason",
        Phrase::check(
            "vm.busy",
            &args,
            "db-01 already has a migration queued or running",
        ),
    );
    let fr = phrase_in(Locale::fr, &p).unwrap();
    assert!(fr.starts_with("web-01 reste"), "{fr}");
    assert!(fr.contains("db-01") && !fr.contains("already"), "{fr}");
    assert_eq!(phrase_in(Locale::en, &p).unwrap(), p.english);
    // A hypervisor's own words are shown as they are, the rest translated.
    let stays = Phrase::new(
        "engine.stays",
        &[("vm", "web-01".into()), ("host", "esx-01".into())],
    );
    let failed = Phrase::new("engine.failed.hypervisor", &[])
        .with("reason", Phrase::raw("QMP: socket closed"))
        .with("stays", stays);
    assert_eq!(phrase_in(Locale::en, &failed).unwrap(), failed.english);
    assert_eq!(
        phrase_in(Locale::fr, &failed).unwrap(),
        "L'hyperviseur a signalé une erreur : QMP: socket closed ; web-01 continue de s'exécuter sur esx-01"
    );
}

#[test]
fn figures_in_a_phrase_follow_the_language() {
    let p = Phrase::new(
        "engine.wait.memory",
        &[
            ("host", "esx-02".into()),
            ("free_mib", "20480".into()),
            ("heading_mib", "16384".into()),
        ],
    );
    assert_eq!(phrase_in(Locale::en, &p).unwrap(), p.english);
    let fr = phrase_in(Locale::fr, &p).unwrap();
    assert!(
        fr.contains("20,0\u{a0}Gio") || fr.contains("20\u{a0}Gio"),
        "{fr}"
    );
}
