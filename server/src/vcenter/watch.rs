//! Keeping current (docs/VCENTER.md#keeping-current): a property collector of vmshift's own
//! with one filter over a container view of everything vmshift reads, and
//! `WaitForUpdatesEx` returning what changed since the last version — objects that entered
//! the view, properties that changed, objects that left. [`Mirror`] holds what vCenter holds
//! and applies those updates; a change it cannot apply (a deeper property path than the ones
//! read) marks the object to be read again.

use super::collect::{self, value_of, Object, Value, Wanted};
use super::soap::{child, escape, moref, MoRef, Session, SoapError};
use std::collections::{BTreeMap, BTreeSet};

/// One object's update.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// New in the view (or the whole state, on the first wait): all its properties.
    Enter(Object),
    /// Properties changed: (path, new value; `None` when removed).
    Modify {
        obj: MoRef,
        changes: Vec<(String, Option<Value>)>,
    },
    Leave(MoRef),
}

/// vmshift's property collector and its filter.
pub struct Watch {
    collector: MoRef,
    view: Option<MoRef>,
    version: String,
}

impl Watch {
    /// Creates the collector, the view and the filter; the first [`Watch::wait`] returns every
    /// object as entered.
    pub async fn start(session: &mut Session, wanted: Wanted<'_>) -> Result<Watch, SoapError> {
        let view = collect::create_view(session, wanted).await?;
        let spec = collect::view_spec(wanted, &view);
        let mut watch = Watch::on(session, &spec).await?;
        watch.view = Some(view);
        Ok(watch)
    }

    /// A collector of its own with one filter of `spec` (a `PropertyFilterSpec`'s content).
    pub async fn on(session: &mut Session, spec: &str) -> Result<Watch, SoapError> {
        let pc = session.content.property_collector.clone();
        let answer = session.call("CreatePropertyCollector", &pc, "").await?;
        let collector = returned_ref(&answer)?;
        session
            .call(
                "CreateFilter",
                &collector,
                &format!("<spec>{spec}</spec><partialUpdates>false</partialUpdates>"),
            )
            .await?;
        Ok(Watch {
            collector,
            view: None,
            version: String::new(),
        })
    }

    /// Waits up to `max_wait_s` seconds for changes; an empty list when none came.
    pub async fn wait(
        &mut self,
        session: &mut Session,
        max_wait_s: u32,
    ) -> Result<Vec<Update>, SoapError> {
        let mut out = Vec::new();
        loop {
            let body = format!(
                "<version>{}</version><options><maxWaitSeconds>{max_wait_s}</maxWaitSeconds>\
                 </options>",
                escape(&self.version)
            );
            let answer = session
                .call("WaitForUpdatesEx", &self.collector, &body)
                .await?;
            let (version, updates, truncated) = parse_updates(&answer)?;
            if let Some(v) = version {
                self.version = v;
            }
            out.extend(updates);
            if !truncated {
                return Ok(out);
            }
        }
    }

    /// Destroys the collector (its filter goes with it) and the view.
    pub async fn stop(self, session: &mut Session) {
        let _ = session
            .call("DestroyPropertyCollector", &self.collector, "")
            .await;
        if let Some(view) = &self.view {
            let _ = session.call("DestroyView", view, "").await;
        }
    }
}

pub fn returned_ref(answer: &str) -> Result<MoRef, SoapError> {
    let doc =
        roxmltree::Document::parse(answer).map_err(|e| SoapError::Malformed(e.to_string()))?;
    doc.descendants()
        .find(|n| n.tag_name().name() == "returnval")
        .and_then(moref)
        .ok_or_else(|| SoapError::Malformed("no reference returned".into()))
}

/// A `WaitForUpdatesEx` answer: the new version, the updates, whether more are waiting.
pub fn parse_updates(text: &str) -> Result<(Option<String>, Vec<Update>, bool), SoapError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| SoapError::Malformed(e.to_string()))?;
    let Some(rv) = doc
        .descendants()
        .find(|n| n.tag_name().name() == "returnval")
    else {
        return Ok((None, Vec::new(), false));
    };
    let version = child(rv, "version")
        .and_then(|v| v.text())
        .map(str::to_string);
    let truncated = child(rv, "truncated").and_then(|t| t.text()) == Some("true");
    let mut out = Vec::new();
    let sets = rv.children().filter(|n| n.tag_name().name() == "filterSet");
    for o in sets.flat_map(|f| f.children().filter(|n| n.tag_name().name() == "objectSet")) {
        let (Some(kind), Some(obj)) = (
            child(o, "kind").and_then(|k| k.text()),
            child(o, "obj").and_then(moref),
        ) else {
            continue;
        };
        let changes: Vec<(String, Option<Value>)> = o
            .children()
            .filter(|n| n.tag_name().name() == "changeSet")
            .filter_map(|c| {
                let name = child(c, "name")?.text()?.to_string();
                let op = child(c, "op").and_then(|o| o.text()).unwrap_or("assign");
                let value = match op {
                    "remove" | "indirectRemove" => None,
                    _ => Some(child(c, "val").map_or_else(Value::default, |v| value_of(v, text))),
                };
                Some((name, value))
            })
            .collect();
        out.push(match kind {
            "enter" => Update::Enter(Object {
                obj,
                props: changes
                    .into_iter()
                    .filter_map(|(n, v)| Some((n, v?)))
                    .collect(),
            }),
            "leave" => Update::Leave(obj),
            _ => Update::Modify { obj, changes },
        });
    }
    Ok((version, out, truncated))
}

/// What vCenter holds, as read: every object by reference.
#[derive(Debug, Default)]
pub struct Mirror {
    pub objects: BTreeMap<MoRef, Object>,
}

impl Mirror {
    pub fn new(objects: Vec<Object>) -> Mirror {
        Mirror {
            objects: objects.into_iter().map(|o| (o.obj.clone(), o)).collect(),
        }
    }

    /// Applies updates; returns the objects to read again (a change to a path deeper than the
    /// ones read, such as one device of `config.hardware.device`) and whether anything
    /// changed.
    pub fn apply(&mut self, wanted: Wanted<'_>, updates: Vec<Update>) -> (Vec<MoRef>, bool) {
        let mut stale = BTreeSet::new();
        let mut changed = false;
        for update in updates {
            match update {
                Update::Enter(o) => {
                    changed |= self.objects.get(&o.obj) != Some(&o);
                    self.objects.insert(o.obj.clone(), o);
                }
                Update::Leave(r) => changed |= self.objects.remove(&r).is_some(),
                Update::Modify { obj, changes } => {
                    let Some(o) = self.objects.get_mut(&obj) else {
                        stale.insert(obj);
                        continue;
                    };
                    let paths = wanted
                        .iter()
                        .find(|(t, _)| *t == obj.kind)
                        .map_or(&[][..], |(_, p)| *p);
                    for (path, value) in changes {
                        if !paths.contains(&path.as_str()) {
                            stale.insert(obj.clone());
                            continue;
                        }
                        changed = true;
                        match value {
                            Some(v) => o.props.insert(path, v),
                            None => o.props.remove(&path),
                        };
                    }
                }
            }
        }
        (stale.into_iter().collect(), changed)
    }

    /// Replaces the objects read again; those no longer there are gone.
    pub fn replace(&mut self, asked: &[MoRef], read: Vec<Object>) {
        for r in asked {
            self.objects.remove(r);
        }
        for o in read {
            self.objects.insert(o.obj.clone(), o);
        }
    }

    pub fn refs(&self) -> Vec<&Object> {
        self.objects.values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><WaitForUpdatesExResponse xmlns="urn:vim25"><returnval><version>7</version><filterSet><filter type="PropertyFilter">session[1]</filter><objectSet><kind>modify</kind><obj type="VirtualMachine">vm-42</obj><changeSet><name>runtime.powerState</name><op>assign</op><val xsi:type="VirtualMachinePowerState">poweredOff</val></changeSet><changeSet><name>config.hardware.device[4000].connectable</name><op>assign</op><val xsi:type="VirtualDeviceConnectInfo"><connected>false</connected></val></changeSet></objectSet><objectSet><kind>leave</kind><obj type="VirtualMachine">vm-7</obj></objectSet><objectSet><kind>enter</kind><obj type="Datastore">datastore-9</obj><changeSet><name>name</name><op>assign</op><val xsi:type="xsd:string">new-ds</val></changeSet></objectSet></filterSet></returnval></WaitForUpdatesExResponse></soapenv:Body></soapenv:Envelope>"#;

    const WANTED: Wanted<'static> = &[
        ("VirtualMachine", &["name", "runtime.powerState"]),
        ("Datastore", &["name"]),
    ];

    #[test]
    fn updates_are_read_and_applied() {
        let (version, updates, truncated) = parse_updates(ANSWER).unwrap();
        assert_eq!(version.as_deref(), Some("7"));
        assert!(!truncated);
        assert_eq!(updates.len(), 3);
        let vm = |id: &str, state: &str| Object {
            obj: MoRef::new("VirtualMachine", id),
            props: [(
                "runtime.powerState".to_string(),
                Value {
                    text: state.into(),
                    ..Value::default()
                },
            )]
            .into(),
        };
        let mut mirror = Mirror::new(vec![vm("vm-42", "poweredOn"), vm("vm-7", "poweredOn")]);
        let (stale, changed) = mirror.apply(WANTED, updates);
        assert!(changed);
        // The device change is deeper than what is read: the VM is read again.
        assert_eq!(stale, vec![MoRef::new("VirtualMachine", "vm-42")]);
        let vm42 = &mirror.objects[&MoRef::new("VirtualMachine", "vm-42")];
        assert_eq!(vm42.text("runtime.powerState"), Some("poweredOff"));
        assert!(!mirror
            .objects
            .contains_key(&MoRef::new("VirtualMachine", "vm-7")));
        let ds = &mirror.objects[&MoRef::new("Datastore", "datastore-9")];
        assert_eq!(ds.text("name"), Some("new-ds"));
    }

    #[test]
    fn an_empty_wait_changes_nothing() {
        let empty = r#"<Envelope><Body><WaitForUpdatesExResponse></WaitForUpdatesExResponse></Body></Envelope>"#;
        let (version, updates, _) = parse_updates(empty).unwrap();
        assert_eq!((version, updates.len()), (None, 0));
    }
}
