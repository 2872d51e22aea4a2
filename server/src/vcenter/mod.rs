//! vCenter as a source of inventory (docs/VCENTER.md): a vSphere Web Services session
//! ([`soap`]), one property-collector pass over every object ([`collect`]), and vCenter's
//! objects as vmshift's ([`map`]).

pub mod collect;
pub mod compat;
pub mod devices;
pub mod driver;
pub mod layout;
pub mod map;
pub mod parsed;
pub mod relocate;
pub mod soap;
pub mod tls;
pub mod vmknic;
pub mod watch;

pub use soap::{Endpoint, ServiceContent, SoapError};
pub use tls::Trust;

/// Logs in to the vCenter and reads its whole inventory as an import file, with the vCenter's
/// service content (its instance UUID and name).
pub async fn read_inventory(
    endpoint: &Endpoint,
) -> Result<(ServiceContent, map::Mapped), SoapError> {
    let mut session = soap::Session::login(endpoint).await?;
    let objects = collect::collect(&mut session, map::WANTED).await?;
    let refs: Vec<&collect::Object> = objects.iter().collect();
    let mapped = map::inventory(&session.content.instance_uuid, &refs);
    Ok((session.content, mapped))
}
