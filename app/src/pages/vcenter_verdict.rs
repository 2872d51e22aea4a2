//! vCenter's own compatibility verdict beside the wizard's checks (docs/VCENTER.md#migrations):
//! for a VM mirrored from a vCenter moving host, the server asks vCenter
//! (`QueryVMotionCompatibilityEx`) and the answer is listed under vmshift's own results.

use crate::rpc::vcenter_verdict;
use domain::checks::Severity;
use domain::{HostId, VmId};
use leptos::prelude::*;

#[component]
pub fn VcenterVerdict(vm: VmId, host: HostId) -> impl IntoView {
    let verdict = Resource::new(move || (vm, host), |(vm, host)| vcenter_verdict(vm, host));
    let pending = || view! { <p class="muted small" data-testid="vcenter-verdict-pending">"Asking vCenter's own compatibility check…"</p> };
    view! {
        <div class="check-results vcenter-verdict" data-testid="vcenter-verdict">
            <Transition fallback=pending>
                {move || verdict.get().map(|answer| match answer {
                    Ok(results) => view! {
                        <ul>
                            {results.into_iter().map(|r| {
                                let severity = match r.severity {
                                    Severity::Error => "error",
                                    Severity::Warning => "warning",
                                    Severity::Info => "info",
                                };
                                view! {
                                    <li class=format!("result {severity}") data-testid="check-vcenter.compatibility" data-severity=severity>
                                        <span class="severity">{severity}</span>
                                        <div>
                                            <p class="message">{r.message}</p>
                                            <p class="remedy muted small">{r.remedy}</p>
                                        </div>
                                        <code class="rule muted small">{r.id}</code>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="muted small">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </div>
    }
}
