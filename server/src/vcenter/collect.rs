//! One pass of the property collector over the whole vCenter (docs/VCENTER.md#reading): a
//! container view of the root folder holding every object of the types asked for, read with
//! `RetrievePropertiesEx` and, for large vCenters, `ContinueRetrievePropertiesEx` page by
//! page. Each object comes back as its reference and its properties, each property the XML
//! of its value.

use super::soap::{child, escape, moref, MoRef, Session, SoapError};
use std::collections::BTreeMap;

/// Objects per page (vCenter's own default is 100).
const PAGE: usize = 1_000;

/// A property's value: its text (a number, a name, a boolean), the references it holds (a
/// `ManagedObjectReference` or an array of them), and its XML as sent, for structures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Value {
    pub text: String,
    pub refs: Vec<MoRef>,
    pub xml: String,
}

impl Value {
    pub fn number(&self) -> Option<f64> {
        self.text.trim().parse().ok()
    }

    pub fn boolean(&self) -> Option<bool> {
        match self.text.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
}

/// One object read.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub obj: MoRef,
    pub props: BTreeMap<String, Value>,
}

impl Object {
    pub fn text(&self, path: &str) -> Option<&str> {
        self.props
            .get(path)
            .map(|v| v.text.as_str())
            .filter(|t| !t.is_empty())
    }

    pub fn number(&self, path: &str) -> Option<f64> {
        self.props.get(path).and_then(Value::number)
    }

    pub fn boolean(&self, path: &str) -> Option<bool> {
        self.props.get(path).and_then(Value::boolean)
    }

    pub fn refs(&self, path: &str) -> &[MoRef] {
        self.props.get(path).map_or(&[], |v| v.refs.as_slice())
    }
}

/// The properties to read of each type.
pub type Wanted<'a> = &'a [(&'a str, &'a [&'a str])];

/// A value's XML, cut out of its answer, as a document of its own: wrapped in an element
/// declaring the namespaces the answer declared on its envelope (`xsi`, and the
/// `XMLSchema-instance` prefix govmomi's simulator writes).
pub fn fragment(xml: &str) -> String {
    format!(
        "<fragment xmlns=\"urn:vim25\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:XMLSchema-instance=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">{xml}</fragment>"
    )
}

pub(super) fn value_of(val: roxmltree::Node<'_, '_>, text: &str) -> Value {
    let xml = text[val.range()].to_string();
    // References: elements with a plain `type` attribute and only text, the value itself
    // (`<val type="HostSystem">host-21</val>`) or any below it (a `DatastoreHostMount`'s
    // `key`). Other typed values carry `xsi:type`, a namespaced attribute.
    let refs = val
        .descendants()
        .filter(|n| {
            n.is_element() && n.attribute("type").is_some() && n.children().all(|c| c.is_text())
        })
        .filter_map(moref)
        .collect();
    let text = if val.children().all(|n| n.is_text()) {
        val.text().unwrap_or("").trim().to_string()
    } else {
        String::new()
    };
    Value { text, refs, xml }
}

/// The objects of one `RetrievePropertiesEx` answer and its continuation token.
fn page(text: &str) -> Result<(Vec<Object>, Option<String>), SoapError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| SoapError::Malformed(e.to_string()))?;
    let Some(rv) = doc
        .descendants()
        .find(|n| n.tag_name().name() == "returnval")
    else {
        return Ok((Vec::new(), None));
    };
    let token = child(rv, "token")
        .and_then(|t| t.text())
        .map(str::to_string);
    let mut out = Vec::new();
    for o in rv.children().filter(|n| n.tag_name().name() == "objects") {
        let Some(obj) = child(o, "obj").and_then(moref) else {
            continue;
        };
        let mut props = BTreeMap::new();
        for p in o.children().filter(|n| n.tag_name().name() == "propSet") {
            let (Some(name), Some(val)) =
                (child(p, "name").and_then(|n| n.text()), child(p, "val"))
            else {
                continue;
            };
            props.insert(name.to_string(), value_of(val, text));
        }
        out.push(Object { obj, props });
    }
    Ok((out, token))
}

/// A container view of the root folder holding every object of the types in `wanted`.
pub async fn create_view(session: &mut Session, wanted: Wanted<'_>) -> Result<MoRef, SoapError> {
    let c = session.content.clone();
    let types: String = wanted
        .iter()
        .map(|(t, _)| format!("<type>{}</type>", escape(t)))
        .collect();
    let answer = session
        .call(
            "CreateContainerView",
            &c.view_manager,
            &format!(
                "{}{types}<recursive>true</recursive>",
                c.root_folder.xml("container")
            ),
        )
        .await?;
    let doc =
        roxmltree::Document::parse(&answer).map_err(|e| SoapError::Malformed(e.to_string()))?;
    doc.descendants()
        .find(|n| n.tag_name().name() == "returnval")
        .and_then(moref)
        .ok_or_else(|| SoapError::Malformed("no container view".into()))
}

/// The property specs of `wanted`, in WSDL order (`PropertySpec`: type, pathSet).
fn prop_specs(wanted: Wanted<'_>) -> String {
    wanted
        .iter()
        .map(|(t, paths)| {
            let paths: String = paths
                .iter()
                .map(|p| format!("<pathSet>{}</pathSet>", escape(p)))
                .collect();
            format!("<propSet><type>{}</type>{paths}</propSet>", escape(t))
        })
        .collect()
}

/// A `PropertyFilterSpec`'s content reading `wanted` of every object in `view`. Element order
/// as the WSDL declares it (PropertyFilterSpec: propSet, objectSet; ObjectSpec: obj, skip,
/// selectSet; TraversalSpec: name, type, path, skip).
pub fn view_spec(wanted: Wanted<'_>, view: &MoRef) -> String {
    format!(
        "{}<objectSet>{}<skip>true</skip>\
         <selectSet xsi:type=\"TraversalSpec\"><name>view</name><type>ContainerView</type>\
         <path>view</path><skip>false</skip></selectSet></objectSet>",
        prop_specs(wanted),
        view.xml("obj")
    )
}

/// `RetrievePropertiesEx` of `spec`, page after page.
async fn retrieve(session: &mut Session, spec: &str) -> Result<Vec<Object>, SoapError> {
    let collector = session.content.property_collector.clone();
    let body =
        format!("<specSet>{spec}</specSet><options><maxObjects>{PAGE}</maxObjects></options>");
    let mut answer = session
        .call("RetrievePropertiesEx", &collector, &body)
        .await;
    let mut out = Vec::new();
    loop {
        let (objects, token) = page(&answer?)?;
        out.extend(objects);
        let Some(token) = token else { break };
        answer = session
            .call(
                "ContinueRetrievePropertiesEx",
                &collector,
                &format!("<token>{}</token>", escape(&token)),
            )
            .await;
    }
    Ok(out)
}

/// Every object of the types in `wanted` under the root folder, with those properties.
pub async fn collect(session: &mut Session, wanted: Wanted<'_>) -> Result<Vec<Object>, SoapError> {
    let view = create_view(session, wanted).await?;
    let out = retrieve(session, &view_spec(wanted, &view)).await;
    let _ = session.call("DestroyView", &view, "").await;
    out
}

/// The objects `refs` (of the types in `wanted`) read again; objects gone are left out.
pub async fn read_objects(
    session: &mut Session,
    wanted: Wanted<'_>,
    refs: &[MoRef],
) -> Result<Vec<Object>, SoapError> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let objects: String = refs
        .iter()
        .map(|r| format!("<objectSet>{}<skip>false</skip></objectSet>", r.xml("obj")))
        .collect();
    let spec = format!("{}{objects}", prop_specs(wanted));
    match retrieve(session, &spec).await {
        // One of them is gone: read them one by one.
        Err(SoapError::Fault(m)) if m.contains("ManagedObjectNotFound") && refs.len() > 1 => {
            let mut out = Vec::new();
            for r in refs {
                out.extend(Box::pin(read_objects(session, wanted, std::slice::from_ref(r))).await?);
            }
            Ok(out)
        }
        Err(SoapError::Fault(m)) if m.contains("ManagedObjectNotFound") => Ok(Vec::new()),
        other => other,
    }
}
