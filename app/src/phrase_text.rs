//! What the domain says in words — a plan's title, why and where each VM moves, its notes and
//! blockers; the engine's messages and queue reasons — in the page's language
//! (docs/DESIGN.md#languages): the domain gives a code, values and parts (`domain::Phrase`),
//! the page words them. A code this page does not know shows the English.

use crate::check_text::coded_in;
use crate::i18n::{td_string, Locale};
use crate::lang::{fill, lang_of};
use domain::plan::Blocker;
use domain::Phrase;

/// The template of a phrase's code in `locale`.
#[rustfmt::skip]
pub fn template_in(locale: Locale, code: &str) -> Option<&'static str> {
    Some(match code {
        "plan.title.evacuate" => td_string!(locale, phrases.title_evacuate),
        "plan.title.exit" => td_string!(locale, phrases.title_exit),
        "plan.title.drain" => td_string!(locale, phrases.title_drain),
        "plan.title.rolling" => td_string!(locale, phrases.title_rolling),
        "plan.title.moves" => td_string!(locale, phrases.title_moves),
        "plan.why.evacuate" => td_string!(locale, phrases.why_evacuate),
        "plan.why.drain" => td_string!(locale, phrases.why_drain),
        "plan.why.back" => td_string!(locale, phrases.why_back),
        "plan.why.asked" => td_string!(locale, phrases.why_asked),
        "plan.target.host" => td_string!(locale, phrases.target_host),
        "plan.target.datastore" => td_string!(locale, phrases.target_datastore),
        "plan.target.both" => td_string!(locale, phrases.target_both),
        "plan.note.host_stays" => td_string!(locale, phrases.note_host_stays),
        "plan.note.hosts_stay" => td_string!(locale, phrases.note_hosts_stay),
        "plan.note.stays_where_it_went" => td_string!(locale, phrases.note_stays_where_it_went),
        "plan.blocker.no_target" => td_string!(locale, phrases.blocker_no_target),
        "plan.blocker.no_target.remedy" => td_string!(locale, phrases.blocker_no_target_remedy),
        "plan.blocker.inventory.remedy" => td_string!(locale, phrases.blocker_inventory_remedy),
        "plan.run.planned" => td_string!(locale, phrases.run_planned),
        "plan.run.scheduled" => td_string!(locale, phrases.run_scheduled),
        "plan.run.starting" => td_string!(locale, phrases.run_starting),
        "plan.run.running" => td_string!(locale, phrases.run_running),
        "plan.run.moving" => td_string!(locale, phrases.run_moving),
        "plan.run.holding" => td_string!(locale, phrases.run_holding),
        "plan.run.paused" => td_string!(locale, phrases.run_paused),
        "plan.run.resumed" => td_string!(locale, phrases.run_resumed),
        "plan.run.cancelling" => td_string!(locale, phrases.run_cancelling),
        "plan.run.cancelled_draft" => td_string!(locale, phrases.run_cancelled_draft),
        "plan.run.cancelled" => td_string!(locale, phrases.run_cancelled),
        "plan.run.interrupted" => td_string!(locale, phrases.run_interrupted),
        "plan.run.interrupted_orphan" => td_string!(locale, phrases.run_interrupted_orphan),
        "plan.run.failed" => td_string!(locale, phrases.run_failed),
        "plan.run.and" => td_string!(locale, phrases.run_and),
        "plan.run.done" => td_string!(locale, phrases.run_done),
        "plan.run.move_cancelled" => td_string!(locale, phrases.run_move_cancelled),
        "plan.run.stops_on_failure" => td_string!(locale, phrases.run_stops_on_failure),
        "plan.run.not_started" => td_string!(locale, phrases.run_not_started),
        "plan.run.host_stays" => td_string!(locale, phrases.run_host_stays),
        "plan.run.entered" => td_string!(locale, phrases.run_entered),
        "plan.run.enter_failed" => td_string!(locale, phrases.run_enter_failed),
        "plan.run.left" => td_string!(locale, phrases.run_left),
        "plan.run.leave_failed" => td_string!(locale, phrases.run_leave_failed),
        "audit.created" => td_string!(locale, summaries.created),
        "audit.updated" => td_string!(locale, summaries.updated),
        "audit.deleted" => td_string!(locale, summaries.deleted),
        "audit.vm_moved" => td_string!(locale, summaries.vm_moved),
        "audit.imported" => td_string!(locale, summaries.imported),
        "audit.synced" => td_string!(locale, summaries.synced),
        "audit.migration_started" => td_string!(locale, summaries.migration_started),
        "audit.migration_started_plan" => td_string!(locale, summaries.migration_started_plan),
        "audit.migration_cancelled" => td_string!(locale, summaries.migration_cancelled),
        "audit.fault_injected" => td_string!(locale, summaries.fault_injected),
        "audit.fault_cleared" => td_string!(locale, summaries.fault_cleared),
        "audit.plan_created" => td_string!(locale, summaries.plan_created),
        "audit.plan_started" => td_string!(locale, summaries.plan_started),
        "audit.plan_paused" => td_string!(locale, summaries.plan_paused),
        "audit.plan_resumed" => td_string!(locale, summaries.plan_resumed),
        "audit.plan_cancelled" => td_string!(locale, summaries.plan_cancelled),
        "audit.connected" => td_string!(locale, summaries.connected),
        "audit.disconnected" => td_string!(locale, summaries.disconnected),
        "audit.user_created" => td_string!(locale, summaries.user_created),
        "audit.role_changed" => td_string!(locale, summaries.role_changed),
        "audit.sign_in_failed" => td_string!(locale, summaries.sign_in_failed),
        "audit.signed_in" => td_string!(locale, summaries.signed_in),
        "audit.signed_out" => td_string!(locale, summaries.signed_out),
        "audit.token_created" => td_string!(locale, summaries.token_created),
        "audit.token_revoked" => td_string!(locale, summaries.token_revoked),
        "refuse.unknown" => td_string!(locale, refuse.unknown),
        "refuse.exists_id" => td_string!(locale, refuse.exists_id),
        "refuse.no_such" => td_string!(locale, refuse.no_such),
        "refuse.in_use" => td_string!(locale, refuse.in_use),
        "refuse.name_taken" => td_string!(locale, refuse.name_taken),
        "refuse.name_taken_switch" => td_string!(locale, refuse.name_taken_switch),
        "refuse.maintenance_runs" => td_string!(locale, refuse.maintenance_runs),
        "refuse.no_host" => td_string!(locale, refuse.no_host),
        "refuse.host_twice" => td_string!(locale, refuse.host_twice),
        "refuse.local_one_host" => td_string!(locale, refuse.local_one_host),
        "refuse.disk_larger" => td_string!(locale, refuse.disk_larger),
        "refuse.allocated" => td_string!(locale, refuse.allocated),
        "refuse.portgroup_attachment" => td_string!(locale, refuse.portgroup_attachment),
        "refuse.host_in_maintenance" => td_string!(locale, refuse.host_in_maintenance),
        "refuse.reservation" => td_string!(locale, refuse.reservation),
        "refuse.disk_used" => td_string!(locale, refuse.disk_used),
        "refuse.disk_not_mounted" => td_string!(locale, refuse.disk_not_mounted),
        "refuse.disk_too_large" => td_string!(locale, refuse.disk_too_large),
        "refuse.disk_no_space" => td_string!(locale, refuse.disk_no_space),
        "refuse.nic_unreachable" => td_string!(locale, refuse.nic_unreachable),
        "refuse.device_needs_datastore" => td_string!(locale, refuse.device_needs_datastore),
        "refuse.device_no_datastore" => td_string!(locale, refuse.device_no_datastore),
        "refuse.device_not_mounted" => td_string!(locale, refuse.device_not_mounted),
        "refuse.keep_mounting" => td_string!(locale, refuse.keep_mounting),
        "refuse.keep_member" => td_string!(locale, refuse.keep_member),
        "refuse.keep_reachable" => td_string!(locale, refuse.keep_reachable),
        "refuse.rule_least" => td_string!(locale, refuse.rule_least),
        "refuse.vm_twice" => td_string!(locale, refuse.vm_twice),
        "refuse.rule_needs_host" => td_string!(locale, refuse.rule_needs_host),
        "refuse.rule_no_host" => td_string!(locale, refuse.rule_no_host),
        "refuse.host_not_in_cluster" => td_string!(locale, refuse.host_not_in_cluster),
        "refuse.host_named_by_rule" => td_string!(locale, refuse.host_named_by_rule),
        "refuse.no_moves" => td_string!(locale, refuse.no_moves),
        "refuse.at_a_time" => td_string!(locale, refuse.at_a_time),
        "refuse.at_a_time_memory" => td_string!(locale, refuse.at_a_time_memory),
        "refuse.max_concurrent" => td_string!(locale, refuse.max_concurrent),
        "refuse.window" => td_string!(locale, refuse.window),
        "refuse.downtime_target" => td_string!(locale, refuse.downtime_target),
        "refuse.bandwidth_cap" => td_string!(locale, refuse.bandwidth_cap),
        "refuse.priority" => td_string!(locale, refuse.priority),
        "refuse.username" => td_string!(locale, refuse.username),
        "refuse.password" => td_string!(locale, refuse.password),
        "refuse.vm_host_unknown" => td_string!(locale, refuse.vm_host_unknown),
        "refuse.needs_target_host" => td_string!(locale, refuse.needs_target_host),
        "refuse.svmotion_keeps_host" => td_string!(locale, refuse.svmotion_keeps_host),
        "refuse.needs_target_datastore" => td_string!(locale, refuse.needs_target_datastore),
        "refuse.vmotion_keeps_disks" => td_string!(locale, refuse.vmotion_keeps_disks),
        "refuse.connection_kind" => td_string!(locale, refuse.connection_kind),
        "refuse.url_scheme" => td_string!(locale, refuse.url_scheme),
        "refuse.url_host" => td_string!(locale, refuse.url_host),
        "refuse.text" => td_string!(locale, refuse.text),
        "refuse.connection_password" => td_string!(locale, refuse.connection_password),
        "refuse.ca_pem" => td_string!(locale, refuse.ca_pem),
        "refuse.insecure_tls" => td_string!(locale, refuse.insecure_tls),
        "value.name_empty" => td_string!(locale, value.name_empty),
        "value.name_space" => td_string!(locale, value.name_space),
        "value.name_long" => td_string!(locale, value.name_long),
        "value.name_printable" => td_string!(locale, value.name_printable),
        "value.size_positive" => td_string!(locale, value.size_positive),
        "value.size_max" => td_string!(locale, value.size_max),
        "value.rate_range" => td_string!(locale, value.rate_range),
        "value.fraction_range" => td_string!(locale, value.fraction_range),
        "value.link" => td_string!(locale, value.link),
        "value.vlan" => td_string!(locale, value.vlan),
        "refuse.field_value" => td_string!(locale, refuse.field_value),
        "import.trunk" => td_string!(locale, import_words.trunk),
        "import.disk_datastore" => td_string!(locale, import_words.disk_datastore),
        "import.no_disk_datastore" => td_string!(locale, import_words.no_disk_datastore),
        "import.no_vm_name" => td_string!(locale, import_words.no_vm_name),
        "import.bad_name" => td_string!(locale, import_words.bad_name),
        "import.vm_twice" => td_string!(locale, import_words.vm_twice),
        "import.vm_no_host" => td_string!(locale, import_words.vm_no_host),
        "import.bad_power" => td_string!(locale, import_words.bad_power),
        "import.vm_empty" => td_string!(locale, import_words.vm_empty),
        "import.no_datastore_name" => td_string!(locale, import_words.no_datastore_name),
        "import.datastore_unmounted" => td_string!(locale, import_words.datastore_unmounted),
        "import.datastore_no_capacity" => td_string!(locale, import_words.datastore_no_capacity),
        "import.nic_no_network" => td_string!(locale, import_words.nic_no_network),
        "import.nic_unreachable" => td_string!(locale, import_words.nic_unreachable),
        "import.no_host_name" => td_string!(locale, import_words.no_host_name),
        "import.host_twice" => td_string!(locale, import_words.host_twice),
        "import.guess_members" => td_string!(locale, import_words.guess_members),
        "import.guess_portgroups" => td_string!(locale, import_words.guess_portgroups),
        "import.guess_split_disks" => td_string!(locale, import_words.guess_split_disks),
        "import.guess_nics" => td_string!(locale, import_words.guess_nics),
        "import.guess_working_set" => td_string!(locale, import_words.guess_working_set),
        "import.guess_workloads" => td_string!(locale, import_words.guess_workloads),
        "import.guess_throughput" => td_string!(locale, import_words.guess_throughput),
        "import.guess_datastores_paths" => td_string!(locale, import_words.guess_datastores_paths),
        "import.guess_datastores_cluster" => td_string!(locale, import_words.guess_datastores_cluster),
        "import.guess_host_defaults" => td_string!(locale, import_words.guess_host_defaults),
        "import.guess_hosts_from_vms" => td_string!(locale, import_words.guess_hosts_from_vms),
        "import.guess_link" => td_string!(locale, import_words.guess_link),
        "import.guess_feature_level" => td_string!(locale, import_words.guess_feature_level),
        "import.guess_hosts" => td_string!(locale, import_words.guess_hosts),
        "import.guess_suffixed" => td_string!(locale, import_words.guess_suffixed),
        "server.busy" => td_string!(locale, server_words.busy),
        "server.already_finished" => td_string!(locale, server_words.already_finished),
        "server.plan_not_draft" => td_string!(locale, server_words.plan_not_draft),
        "server.plan_not_running" => td_string!(locale, server_words.plan_not_running),
        "server.plan_nothing_to_do" => td_string!(locale, server_words.plan_nothing_to_do),
        "server.plan_just_ended" => td_string!(locale, server_words.plan_just_ended),
        "server.unavailable" => td_string!(locale, server_words.unavailable),
        "server.unauthenticated" => td_string!(locale, server_words.unauthenticated),
        "server.bad_credentials" => td_string!(locale, server_words.bad_credentials),
        "server.token_mints_token" => td_string!(locale, server_words.token_mints_token),
        "server.too_many_requests" => td_string!(locale, server_words.too_many_requests),
        "server.internal" => td_string!(locale, server_words.internal),
        "server.cross_site" => td_string!(locale, server_words.cross_site),
        "engine.queued" => td_string!(locale, engine.queued),
        "engine.checking" => td_string!(locale, engine.checking),
        "engine.preparing" => td_string!(locale, engine.preparing),
        "engine.disk_copy" => td_string!(locale, engine.disk_copy),
        "engine.precopy" => td_string!(locale, engine.precopy),
        "engine.precopy_sdps" => td_string!(locale, engine.precopy_sdps),
        "engine.switchover" => td_string!(locale, engine.switchover),
        "engine.phase" => td_string!(locale, engine.phase),
        "engine.completed" => td_string!(locale, engine.completed),
        "engine.completed_vcenter" => td_string!(locale, engine.completed_vcenter),
        "engine.stays" => td_string!(locale, engine.stays),
        "engine.stays_disks" => td_string!(locale, engine.stays_disks),
        "engine.cancelled" => td_string!(locale, engine.cancelled),
        "engine.shut_down" => td_string!(locale, engine.shut_down),
        "engine.failed.check" => td_string!(locale, engine.failed_check),
        "engine.failed.prepare" => td_string!(locale, engine.failed_prepare),
        "engine.failed.link_down" => td_string!(locale, engine.failed_link_down),
        "engine.failed.datastore_gone" => td_string!(locale, engine.failed_datastore_gone),
        "engine.failed.hypervisor" => td_string!(locale, engine.failed_hypervisor),
        "engine.failed.transfer" => td_string!(locale, engine.failed_transfer),
        "engine.failed.switchover" => td_string!(locale, engine.failed_switchover),
        "engine.failed.vm_deleted" => td_string!(locale, engine.failed_vm_deleted),
        "engine.fault.link_down" => td_string!(locale, engine.fault_link_down),
        "engine.fault.host_down" => td_string!(locale, engine.fault_host_down),
        "engine.fault.datastore_full" => td_string!(locale, engine.fault_datastore_full),
        "engine.not_converged" => td_string!(locale, engine.not_converged),
        "engine.network_down" => td_string!(locale, engine.network_down),
        "engine.no_bandwidth" => td_string!(locale, engine.no_bandwidth),
        "engine.switchover_too_long" => td_string!(locale, engine.switchover_too_long),
        "engine.orphaned" => td_string!(locale, engine.orphaned),
        "engine.stopped" => td_string!(locale, engine.stopped),
        "engine.unrecorded_moved" => td_string!(locale, engine.unrecorded_moved),
        "engine.unrecorded_stays" => td_string!(locale, engine.unrecorded_stays),
        "engine.stays_recorded" => td_string!(locale, engine.stays_recorded),
        "engine.wait.host_slots" => td_string!(locale, engine.wait_host_slots),
        "engine.wait.link_slots" => td_string!(locale, engine.wait_link_slots),
        "engine.wait.datastore_slots" => td_string!(locale, engine.wait_datastore_slots),
        "engine.wait.elsewhere" => td_string!(locale, engine.wait_elsewhere),
        "engine.wait.taken" => td_string!(locale, engine.wait_taken),
        "engine.wait.taken_more" => td_string!(locale, engine.wait_taken_more),
        "engine.wait.memory" => td_string!(locale, engine.wait_memory),
        "engine.wait.space" => td_string!(locale, engine.wait_space),
        "engine.wait.plan_paused" => td_string!(locale, engine.wait_plan_paused),
        "engine.wait.plan_limit" => td_string!(locale, engine.wait_plan_limit),
        "engine.wait.paced" => td_string!(locale, engine.wait_paced),
        "engine.link_of" => td_string!(locale, engine.link_of),
        "engine.a_link" => td_string!(locale, engine.a_link),
        "engine.a_datastore" => td_string!(locale, engine.a_datastore),
        _ => return None,
    })
}

/// `phrase` in `locale`, if this page knows its code (and its parts' codes, or their English).
pub fn phrase_in(locale: Locale, phrase: &Phrase) -> Option<String> {
    if phrase.code == "engine.phase" {
        let phase = domain::phase::Phase::parse(phrase.args.get("phase")?)?;
        return Some(crate::names::phase_in(locale, phase).to_string());
    }
    if let Some(what) = phrase.code.strip_prefix("name.") {
        return crate::names::name_in(locale, what, phrase.args.get("code")?).map(str::to_string);
    }
    let template = template_in(locale, &phrase.code)?;
    let lang = lang_of(locale);
    let mut values: Vec<(&str, String)> = phrase
        .args
        .iter()
        .map(|(k, v)| (k.as_str(), domain::phrase::value(lang, k, v)))
        .collect();
    for (name, part) in &phrase.parts {
        values.push((name.as_str(), part_in(locale, part)));
    }
    Some(fill(template, &values))
}

/// A part: a phrase, a check result's message, or text as it is.
fn part_in(locale: Locale, part: &Phrase) -> String {
    phrase_in(locale, part)
        .or_else(|| coded_in(locale, &part.code, &part.args).map(|(message, _)| message))
        .unwrap_or_else(|| part.english.clone())
}

/// `words` in `locale`, else `english` (the API's message: an older record, or a code this
/// page does not know).
pub fn said_in(locale: Locale, words: Option<&Phrase>, english: &str) -> String {
    words
        .and_then(|w| phrase_in(locale, w))
        .unwrap_or_else(|| english.to_string())
}

/// What a migration says now, in `locale`: why it waits, else its last message.
pub fn status_in(locale: Locale, m: &domain::migration::Migration) -> String {
    match &m.queue_reason {
        Some(reason) => said_in(locale, m.queue_words.as_ref(), reason),
        None => said_in(locale, m.words.as_ref(), &m.message),
    }
}

/// The message of each of `events` (in order) in `locale`: an event without words repeats
/// the last words said, if its message is the same (docs/DESIGN.md#languages).
pub fn events_in(locale: Locale, events: &[domain::migration::MigrationEvent]) -> Vec<String> {
    let mut last: Option<(&Phrase, &str)> = None;
    events
        .iter()
        .map(|e| {
            let words = match &e.words {
                Some(w) => {
                    last = Some((w, &e.message));
                    Some(w)
                }
                None => last.filter(|(_, m)| *m == e.message).map(|(w, _)| w),
            };
            said_in(locale, words, &e.message)
        })
        .collect()
}

/// Why a prediction says a move would fail, in `locale`.
pub fn failure_in(locale: Locale, p: &domain::prediction::Prediction) -> String {
    said_in(
        locale,
        p.failure_words.as_ref(),
        p.failure.as_deref().unwrap_or_default(),
    )
}

/// A stored plan's title in `locale`.
pub fn title(locale: Locale, plan: &domain::plan::PlanRecord) -> String {
    said_in(locale, Some(&plan.draft.title_words()), plan.title())
}

/// A blocker's message and remedy in `locale`, and whether the message is the server's own
/// English (the inventory's refusal, which has no code yet).
pub fn blocker_in(locale: Locale, b: &Blocker) -> (String, String, bool) {
    if let Some((message, remedy)) = coded_in(locale, &b.code, &b.args) {
        return (message, remedy, false);
    }
    let remedy_code = format!("{}.remedy", b.code);
    let remedy = template_in(locale, &remedy_code).map_or_else(|| b.remedy.clone(), str::to_string);
    match template_in(locale, &b.code) {
        Some(template) => {
            let values: Vec<(&str, String)> = b
                .args
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            (fill(template, &values), remedy, false)
        }
        None => (b.message.clone(), remedy, true),
    }
}

#[cfg(test)]
mod tests;
