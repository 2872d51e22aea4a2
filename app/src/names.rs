//! The names of the domain's kinds and states in the page's language (docs/DESIGN.md#languages):
//! what a page shows where the API has a stable code. Each takes the page's i18n context and
//! reads the language when called, so a closure built on it follows a switch.

use crate::i18n::{t_string, td_string, Locale};
use domain::accounts::Role;
use domain::checks::MigrationKind;
use domain::phase::Phase;
use domain::{HostState, ObjectKind, PowerState};
use leptos_i18n::I18nContext;

type I18n = I18nContext<Locale>;

pub fn object_kind(i18n: I18n, kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Cluster => t_string!(i18n, kinds.cluster),
        ObjectKind::Host => t_string!(i18n, kinds.host),
        ObjectKind::Datastore => t_string!(i18n, kinds.datastore),
        ObjectKind::Switch => t_string!(i18n, kinds.switch),
        ObjectKind::Portgroup => t_string!(i18n, kinds.portgroup),
        ObjectKind::Vm => t_string!(i18n, kinds.vm),
        ObjectKind::Rule => t_string!(i18n, kinds.rule),
    }
}

pub fn host_state(i18n: I18n, state: HostState) -> &'static str {
    match state {
        HostState::Connected => t_string!(i18n, states.connected),
        HostState::Maintenance => t_string!(i18n, states.maintenance),
        HostState::Disconnected => t_string!(i18n, states.disconnected),
    }
}

pub fn power_state(i18n: I18n, state: PowerState) -> &'static str {
    match state {
        PowerState::On => t_string!(i18n, states.powered_on),
        PowerState::Off => t_string!(i18n, states.powered_off),
        PowerState::Suspended => t_string!(i18n, states.suspended),
    }
}

pub fn role(i18n: I18n, role: Role) -> &'static str {
    match role {
        Role::Viewer => t_string!(i18n, roles.viewer),
        Role::Operator => t_string!(i18n, roles.operator),
        Role::Admin => t_string!(i18n, roles.admin),
    }
}

pub fn phase(i18n: I18n, phase: Phase) -> &'static str {
    phase_in(i18n.get_locale(), phase)
}

/// [`phase`] in a given language.
pub fn phase_in(locale: Locale, phase: Phase) -> &'static str {
    match phase {
        Phase::Queued => td_string!(locale, phases.queued),
        Phase::Checking => td_string!(locale, phases.checking),
        Phase::Preparing => td_string!(locale, phases.preparing),
        Phase::DiskCopy => td_string!(locale, phases.disk_copy),
        Phase::MemoryPrecopy => td_string!(locale, phases.memory_precopy),
        Phase::Switchover => td_string!(locale, phases.switchover),
        Phase::Completed => td_string!(locale, phases.completed),
        Phase::Failed => td_string!(locale, phases.failed),
        Phase::Cancelled => td_string!(locale, phases.cancelled),
    }
}

/// vMotion and Storage vMotion keep their names in French, as in vCenter's French interface.
pub fn migration_kind(i18n: I18n, kind: MigrationKind) -> &'static str {
    migration_kind_in(i18n.get_locale(), kind)
}

/// [`migration_kind`] in a given language.
pub fn migration_kind_in(locale: Locale, kind: MigrationKind) -> &'static str {
    match kind {
        MigrationKind::VMotion => "vMotion",
        MigrationKind::StorageVMotion => "Storage vMotion",
        MigrationKind::Combined => td_string!(locale, kinds.combined),
    }
}

pub fn fault_kind(i18n: I18n, kind: domain::migration::FaultKind) -> &'static str {
    use domain::migration::FaultKind;
    match kind {
        FaultKind::VmotionLinkDown => t_string!(i18n, faults.vmotion_link_down),
        FaultKind::HostDown => t_string!(i18n, faults.host_down),
        FaultKind::DatastoreFull => t_string!(i18n, faults.datastore_full),
    }
}

pub fn datastore_kind(i18n: I18n, kind: domain::DatastoreKind) -> &'static str {
    use domain::DatastoreKind;
    match kind {
        DatastoreKind::Local => t_string!(i18n, map.local),
        DatastoreKind::VmfsShared => t_string!(i18n, map.vmfs_shared),
        DatastoreKind::Nfs => "NFS",
        DatastoreKind::Vsan => "vSAN",
    }
}

pub fn plan_state(i18n: I18n, state: domain::plan::PlanState) -> &'static str {
    use domain::plan::PlanState;
    match state {
        PlanState::Draft => t_string!(i18n, plan_states.draft),
        PlanState::Scheduled => t_string!(i18n, plan_states.scheduled),
        PlanState::Running => t_string!(i18n, plan_states.running),
        PlanState::Paused => t_string!(i18n, plan_states.paused),
        PlanState::Completed => t_string!(i18n, plan_states.completed),
        PlanState::Failed => t_string!(i18n, plan_states.failed),
        PlanState::Cancelled => t_string!(i18n, plan_states.cancelled),
        PlanState::Interrupted => t_string!(i18n, plan_states.interrupted),
    }
}

/// A kind's name as a tab or a page's title ("Datastores" / "Banques de données").
pub fn kind_title(i18n: I18n, kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Cluster => t_string!(i18n, inventory.clusters),
        ObjectKind::Host => t_string!(i18n, inventory.hosts),
        ObjectKind::Datastore => t_string!(i18n, inventory.datastores),
        ObjectKind::Switch => t_string!(i18n, inventory.switches),
        ObjectKind::Portgroup => t_string!(i18n, inventory.portgroups),
        ObjectKind::Vm => t_string!(i18n, inventory.vms),
        ObjectKind::Rule => t_string!(i18n, inventory.rules),
    }
}

/// A kind's name in a count ("45,000 VMs", "12 datastores" / "12 banques de données").
pub fn object_kinds(i18n: I18n, kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Cluster => t_string!(i18n, kinds_plural.cluster),
        ObjectKind::Host => t_string!(i18n, kinds_plural.host),
        ObjectKind::Datastore => t_string!(i18n, kinds_plural.datastore),
        ObjectKind::Switch => t_string!(i18n, kinds_plural.switch),
        ObjectKind::Portgroup => t_string!(i18n, kinds_plural.portgroup),
        ObjectKind::Vm => t_string!(i18n, kinds_plural.vm),
        ObjectKind::Rule => t_string!(i18n, kinds_plural.rule),
    }
}

/// "New datastore" / "Nouvelle banque de données" (French nouns have genders).
pub fn new_object(i18n: I18n, kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Cluster => t_string!(i18n, new_object.cluster),
        ObjectKind::Host => t_string!(i18n, new_object.host),
        ObjectKind::Datastore => t_string!(i18n, new_object.datastore),
        ObjectKind::Switch => t_string!(i18n, new_object.switch),
        ObjectKind::Portgroup => t_string!(i18n, new_object.portgroup),
        ObjectKind::Vm => t_string!(i18n, new_object.vm),
        ObjectKind::Rule => t_string!(i18n, new_object.rule),
    }
}

/// "Edit datastore" / "Modifier la banque de données".
pub fn edit_object(i18n: I18n, kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Cluster => t_string!(i18n, edit_object.cluster),
        ObjectKind::Host => t_string!(i18n, edit_object.host),
        ObjectKind::Datastore => t_string!(i18n, edit_object.datastore),
        ObjectKind::Switch => t_string!(i18n, edit_object.switch),
        ObjectKind::Portgroup => t_string!(i18n, edit_object.portgroup),
        ObjectKind::Vm => t_string!(i18n, edit_object.vm),
        ObjectKind::Rule => t_string!(i18n, edit_object.rule),
    }
}

/// A name given by its code (`what`: `object_kind` by plural, `migration_kind`, `fault_kind`,
/// `role`), as the domain's phrases name them (docs/DESIGN.md#languages).
pub fn name_in(locale: Locale, what: &str, code: &str) -> Option<&'static str> {
    use domain::migration::FaultKind;
    Some(match (what, code) {
        ("object_kind", plural) => match ObjectKind::from_plural(plural)? {
            ObjectKind::Cluster => td_string!(locale, kinds.cluster),
            ObjectKind::Host => td_string!(locale, kinds.host),
            ObjectKind::Datastore => td_string!(locale, kinds.datastore),
            ObjectKind::Switch => td_string!(locale, kinds.switch),
            ObjectKind::Portgroup => td_string!(locale, kinds.portgroup),
            ObjectKind::Vm => td_string!(locale, kinds.vm),
            ObjectKind::Rule => td_string!(locale, kinds.rule),
        },
        ("migration_kind", code) => {
            let kind = MigrationKind::ALL
                .into_iter()
                .find(|k| k.as_str() == code)?;
            migration_kind_in(locale, kind)
        }
        ("fault_kind", code) => match FaultKind::ALL.into_iter().find(|k| k.as_str() == code)? {
            FaultKind::VmotionLinkDown => td_string!(locale, faults.vmotion_link_down),
            FaultKind::HostDown => td_string!(locale, faults.host_down),
            FaultKind::DatastoreFull => td_string!(locale, faults.datastore_full),
        },
        ("phase", code) => phase_in(locale, domain::phase::Phase::parse(code)?),
        ("plan_state", code) => {
            use domain::plan::PlanState;
            let all = [
                PlanState::Draft,
                PlanState::Scheduled,
                PlanState::Running,
                PlanState::Paused,
                PlanState::Completed,
                PlanState::Failed,
                PlanState::Cancelled,
                PlanState::Interrupted,
            ];
            match all.into_iter().find(|s| s.as_str() == code)? {
                PlanState::Draft => td_string!(locale, plan_states.draft),
                PlanState::Scheduled => td_string!(locale, plan_states.scheduled),
                PlanState::Running => td_string!(locale, plan_states.running),
                PlanState::Paused => td_string!(locale, plan_states.paused),
                PlanState::Completed => td_string!(locale, plan_states.completed),
                PlanState::Failed => td_string!(locale, plan_states.failed),
                PlanState::Cancelled => td_string!(locale, plan_states.cancelled),
                PlanState::Interrupted => td_string!(locale, plan_states.interrupted),
            }
        }
        ("rule_kind", "keep_together") => td_string!(locale, tables.keep_together),
        ("rule_kind", "keep_apart") => td_string!(locale, tables.keep_apart),
        ("rule_kind", "run_on_hosts") => td_string!(locale, tables.run_on_hosts),
        ("role", code) => match Role::parse(code)? {
            Role::Viewer => td_string!(locale, roles.viewer),
            Role::Operator => td_string!(locale, roles.operator),
            Role::Admin => td_string!(locale, roles.admin),
        },
        _ => return None,
    })
}
