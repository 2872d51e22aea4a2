//! A vSphere Web Services (SOAP) session (docs/VCENTER.md#the-soap-client): the service
//! content, a login whose session cookie rides on every call, calls as `urn:vim25` envelopes,
//! and faults read back as errors naming vCenter's message. Responses are read as XML trees
//! by local name, so a server writing `xsi:type` and one writing `XMLSchema-instance:type`
//! read alike.

use super::tls::{self, Seen, Trust};

/// A managed object reference: its type and its id (`HostSystem`, `host-21`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MoRef {
    pub kind: String,
    pub value: String,
}

impl MoRef {
    pub fn new(kind: &str, value: &str) -> Self {
        MoRef {
            kind: kind.into(),
            value: value.into(),
        }
    }

    /// The reference as an element named `name`.
    pub fn xml(&self, name: &str) -> String {
        format!(
            "<{name} type=\"{}\">{}</{name}>",
            escape(&self.kind),
            escape(&self.value)
        )
    }
}

/// What went wrong talking to vCenter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error("vCenter cannot be reached at {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error(
        "vCenter's certificate at {url} is not trusted (SHA-256 {fingerprint}): give the CA \
         that signed it (ca_pem) or accept this certificate (accept_sha256); {why}"
    )]
    Untrusted {
        url: String,
        fingerprint: String,
        why: String,
    },
    #[error("vCenter refused the user name or password")]
    BadLogin,
    /// The session is no longer valid (it expired, or vCenter restarted).
    #[error("vCenter ended the session: {0}")]
    SessionLost(String),
    #[error("{0}")]
    Config(String),
    #[error("vCenter answered with a fault: {0}")]
    Fault(String),
    #[error("vCenter's answer could not be read: {0}")]
    Malformed(String),
}

/// The service content's references vmshift uses, and the vCenter's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContent {
    pub root_folder: MoRef,
    pub property_collector: MoRef,
    pub view_manager: MoRef,
    pub session_manager: MoRef,
    /// What answers `QueryVMotionCompatibilityEx` (absent on some servers).
    pub provisioning_checker: Option<MoRef>,
    /// The vCenter's instance UUID.
    pub instance_uuid: String,
    /// `VMware vCenter Server 8.0.2 build-…`.
    pub full_name: String,
}

/// XML text escaped for an element or attribute.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn envelope(method: &str, this: &MoRef, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"urn:vim25\">\
         <soapenv:Body><{method}>{}{body}</{method}></soapenv:Body></soapenv:Envelope>",
        this.xml("_this")
    )
}

/// Where a vCenter is and how to log in. Its `Debug` leaves the password out.
#[derive(Clone)]
pub struct Endpoint {
    /// `https://vcenter/sdk`.
    pub url: String,
    pub username: String,
    pub password: String,
    pub trust: Trust,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("trust", &self.trust)
            .finish_non_exhaustive()
    }
}

/// A logged-in session.
pub struct Session {
    http: reqwest::Client,
    seen: Seen,
    url: String,
    cookie: Option<String>,
    pub content: ServiceContent,
}

impl Session {
    /// Reads the service content at the endpoint's URL and logs in.
    pub async fn login(endpoint: &Endpoint) -> Result<Session, SoapError> {
        let (http, seen) = tls::client(&endpoint.trust).map_err(SoapError::Config)?;
        let (username, password) = (&endpoint.username, &endpoint.password);
        let mut session = Session {
            http,
            seen,
            url: endpoint.url.clone(),
            cookie: None,
            content: ServiceContent {
                root_folder: MoRef::new("Folder", ""),
                property_collector: MoRef::new("PropertyCollector", ""),
                view_manager: MoRef::new("ViewManager", ""),
                session_manager: MoRef::new("SessionManager", ""),
                provisioning_checker: None,
                instance_uuid: String::new(),
                full_name: String::new(),
            },
        };
        let instance = MoRef::new("ServiceInstance", "ServiceInstance");
        let answer = session
            .call("RetrieveServiceContent", &instance, "")
            .await?;
        session.content = service_content(&answer)?;
        let body = format!(
            "<userName>{}</userName><password>{}</password>",
            escape(username),
            escape(password)
        );
        let manager = session.content.session_manager.clone();
        match session.call("Login", &manager, &body).await {
            Ok(_) => Ok(session),
            Err(SoapError::Fault(m))
                if m.to_lowercase().contains("login") || m.to_lowercase().contains("password") =>
            {
                Err(SoapError::BadLogin)
            }
            Err(e) => Err(e),
        }
    }

    /// Ends the session (vCenter counts sessions per user).
    pub async fn logout(mut self) {
        let manager = self.content.session_manager.clone();
        let _ = self.call("Logout", &manager, "").await;
    }

    /// Calls `method` on `this` with `body` (the arguments after `_this`, as XML); returns the
    /// response's XML text.
    pub async fn call(
        &mut self,
        method: &str,
        this: &MoRef,
        body: &str,
    ) -> Result<String, SoapError> {
        let unreachable = |why: String| SoapError::Unreachable {
            url: self.url.clone(),
            why,
        };
        let failed = |e: reqwest::Error| {
            let why = error_chain(&e);
            match self.seen.lock().expect("not poisoned").clone() {
                Some(fingerprint) if why.to_lowercase().contains("certificate") => {
                    SoapError::Untrusted {
                        url: self.url.clone(),
                        fingerprint,
                        why,
                    }
                }
                _ => unreachable(why),
            }
        };
        tracing::debug!(target: "vmshift::vcenter", method, url = %self.url, "SOAP call");
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", "urn:vim25/6.5")
            .body(envelope(method, this, body));
        if let Some(c) = &self.cookie {
            request = request.header("cookie", c.clone());
        }
        let response = request.send().await.map_err(failed)?;
        if let Some(c) = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("vmware_soap_session="))
        {
            self.cookie = c.split(';').next().map(str::to_string);
        }
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if let Some(fault) = fault(&text) {
            if fault.ends_with("(NotAuthenticated)") {
                return Err(SoapError::SessionLost(fault));
            }
            return Err(SoapError::Fault(fault));
        }
        if !status.is_success() {
            return Err(unreachable(format!("HTTP status {status}")));
        }
        Ok(text)
    }
}

/// An error with its causes (reqwest's own message hides the TLS one).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The fault's message, when the answer is a fault.
fn fault(text: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let f = doc
        .descendants()
        .find(|n| n.has_tag_name("Fault") || n.tag_name().name() == "Fault")?;
    let string = f
        .children()
        .find(|n| n.tag_name().name() == "faultstring")
        .and_then(|n| n.text())
        .unwrap_or("")
        .trim()
        .to_string();
    let kind = f
        .descendants()
        .find(|n| n.tag_name().name() == "detail")
        .and_then(|d| d.children().find(|n| n.is_element()))
        .map(|n| n.tag_name().name().trim_end_matches("Fault").to_string())
        .unwrap_or_default();
    Some(match (kind.is_empty(), string.is_empty()) {
        (true, _) => string,
        (false, true) => kind,
        (false, false) => format!("{string} ({kind})"),
    })
}

/// The first element named `name` below `node`.
pub fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The text of the first element named `name` below `node`.
pub fn text_of(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
}

/// A reference held by an element (`<rootFolder type="Folder">group-d1</rootFolder>`).
pub fn moref(node: roxmltree::Node<'_, '_>) -> Option<MoRef> {
    let kind = node.attribute("type")?;
    Some(MoRef::new(kind, node.text()?.trim()))
}

fn service_content(text: &str) -> Result<ServiceContent, SoapError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| SoapError::Malformed(e.to_string()))?;
    let rv = doc
        .descendants()
        .find(|n| n.tag_name().name() == "returnval")
        .ok_or_else(|| SoapError::Malformed("no service content".into()))?;
    let need = |name: &str| {
        child(rv, name)
            .and_then(moref)
            .ok_or_else(|| SoapError::Malformed(format!("the service content has no {name}")))
    };
    let about = child(rv, "about");
    Ok(ServiceContent {
        root_folder: need("rootFolder")?,
        property_collector: need("propertyCollector")?,
        view_manager: need("viewManager")?,
        session_manager: need("sessionManager")?,
        provisioning_checker: child(rv, "vmProvisioningChecker").and_then(moref),
        instance_uuid: about
            .and_then(|a| text_of(a, "instanceUuid"))
            .unwrap_or_default(),
        full_name: about
            .and_then(|a| text_of(a, "fullName"))
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_name_vcenters_message_and_kind() {
        let text = r#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Cannot complete login due to an incorrect user name or password.</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="InvalidLogin"></InvalidLoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        assert_eq!(
            fault(text).as_deref(),
            Some("Cannot complete login due to an incorrect user name or password. (InvalidLogin)")
        );
        assert_eq!(fault("<a/>"), None);
        assert_eq!(
            MoRef::new("Host<", "h&1").xml("obj"),
            "<obj type=\"Host&lt;\">h&amp;1</obj>"
        );
    }
}
