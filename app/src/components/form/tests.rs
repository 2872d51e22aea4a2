use super::*;
use crate::i18n::Locale;
use domain::ObjectKind;

fn spec() -> FormSpec {
    FormSpec {
        kind: ObjectKind::Vm,
        fields: vec![
            Field::new("name", "Name", Input::Text),
            Field::new("vcpus", "vCPUs", Input::Integer),
            Field::new("workload.working_set_mib", "Working set", Input::Integer).optional(),
            Field::new("fault_tolerance", "FT", Input::Checkbox),
            Field::new("tags", "Tags", Input::Multi(vec![])),
        ],
        groups: vec![Group {
            key: "disks",
            label: "Disks",
            item: "Disk",
            add: "Add disk",
            fields: vec![Field::new("capacity_mib", "Capacity", Input::Integer)],
            initial_rows: 1,
        }],
    }
}

#[test]
fn text_values_become_the_api_json_and_back() {
    let s = spec();
    let (mut values, rows) = s.defaults();
    values.insert("name".into(), "web".into());
    values.insert("vcpus".into(), "4".into());
    values.insert("fault_tolerance".into(), "true".into());
    values.insert("tags".into(), "a,b".into());
    values.insert("disks[0].capacity_mib".into(), "100".into());
    let json = s.to_json(&values, &rows, Locale::en).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"name": "web", "vcpus": 4, "fault_tolerance": true,
            "tags": ["a", "b"], "disks": [{"capacity_mib": 100}]})
    );
    let (back, back_rows) = s.values_of(&json);
    assert_eq!(back["vcpus"], "4");
    assert_eq!(back["disks[0].capacity_mib"], "100");
    assert_eq!(back["workload.working_set_mib"], "");
    assert_eq!(back_rows["disks"], 1);
    values.insert("workload.working_set_mib".into(), "512".into());
    let json = s.to_json(&values, &rows, Locale::en).unwrap();
    assert_eq!(json["workload"]["working_set_mib"], 512);
}

#[test]
fn malformed_text_is_reported_against_its_field() {
    let s = spec();
    let (mut values, rows) = s.defaults();
    values.insert("vcpus".into(), "four".into());
    assert_eq!(
        s.to_json(&values, &rows, Locale::en).unwrap_err().0,
        "vcpus"
    );
    values.insert("vcpus".into(), "-1".into());
    assert!(s
        .to_json(&values, &rows, Locale::en)
        .unwrap_err()
        .1
        .contains("negative"));
    values.insert("vcpus".into(), "2".into());
    values.insert("disks[0].capacity_mib".into(), "".into());
    assert_eq!(
        s.to_json(&values, &rows, Locale::en).unwrap_err().0,
        "disks[0].capacity_mib"
    );
}

#[test]
fn errors_land_on_the_closest_field() {
    let keys = vec![
        "name".to_string(),
        "host_ids".to_string(),
        "disks[0].capacity_mib".to_string(),
    ];
    assert_eq!(
        place_error(&keys, Some("host_ids[1]")).as_deref(),
        Some("host_ids")
    );
    assert_eq!(
        place_error(&keys, Some("disks[0].capacity_mib")).as_deref(),
        Some("disks[0].capacity_mib")
    );
    assert_eq!(place_error(&keys, Some("id")), None);
    assert_eq!(place_error(&keys, None), None);
}

#[test]
fn a_value_that_does_not_parse_is_worded_in_the_pages_language() {
    let json = serde_json::json!({
        "id": "7a1e0001-0000-4000-8000-0000000000aa",
        "name": "",
        "evc_level": null
    });
    let refusal = parse_local(ObjectKind::Cluster, &json).unwrap_err();
    assert_eq!(refusal.field.as_deref(), Some("name"));
    assert_eq!(refusal.message, "name: a name cannot be empty");
    let said = crate::phrase_text::said_in(Locale::fr, refusal.words.as_deref(), &refusal.message);
    assert_eq!(said, "name : un nom ne peut pas être vide");
}
