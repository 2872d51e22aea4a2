use super::super::tests::{plan, three_hosts, Build};
use super::*;
use crate::tag_first;

/// Every goal and every kind of step of a rolling maintenance reads the same tag first as
/// through serde's derived reading.
#[test]
fn goals_and_steps_read_the_same_tag_first() {
    let (mut f, c) = three_hosts();
    let mut vms = Vec::new();
    for (i, h) in [f.a, f.b, c].into_iter().enumerate() {
        vms.push(f.add_vm(&format!("vm-{i}"), h, 2_048, |_| {}));
    }
    let goals = [
        Goal::EvacuateHost {
            host_id: f.a,
            enter_maintenance: false,
        },
        Goal::ExitMaintenance {
            host_id: f.b,
            return_vm_ids: vms.clone(),
        },
        Goal::DrainDatastore {
            datastore_id: f.local_a,
        },
        Goal::RollingMaintenance {
            cluster_id: f.cluster,
            at_a_time: 1,
            maintenance_s: 600,
        },
        Goal::Moves {
            moves: vec![MoveRequest {
                vm_id: vms[0],
                target_host_id: Some(f.b),
                target_datastore_id: None,
                priority: Some(3),
            }],
        },
    ];
    for goal in &goals {
        crate::testing::reads_the_same_tag_first(goal);
    }
    let rolling = plan(&f.inv, &goals[3]);
    let kinds: std::collections::BTreeSet<&str> = rolling
        .steps
        .iter()
        .map(|s| match s {
            Step::Moves { .. } => "moves",
            Step::EnterMaintenance { .. } => "enter",
            Step::Hold { .. } => "hold",
            Step::ExitMaintenance { .. } => "exit",
        })
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    for step in &rolling.steps {
        crate::testing::reads_the_same_tag_first(step);
    }
}

#[test]
fn a_goal_read_tag_first_keeps_the_apis_defaults_and_refusals() {
    let read = |json: &str| {
        tag_first::deserialize::<Goal, _>(&mut serde_json::Deserializer::from_str(json))
    };
    let id = HostId::new_random();
    assert_eq!(
        read(&format!(
            r#"{{"kind":"evacuate_host","host_id":"{}"}}"#,
            id.0
        ))
        .unwrap(),
        Goal::EvacuateHost {
            host_id: id,
            enter_maintenance: true
        }
    );
    let err = read(&format!(
        r#"{{"kind":"evacuate_host","host_id":"{}","force":true}}"#,
        id.0
    ))
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `force`"), "{err}");
}
