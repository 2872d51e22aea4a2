// The vSphere simulator vmshift's tests and benchmarks talk to (docs/VCENTER.md#the-test-server):
// govmomi's simulator library (Debian ships no vcsim command), a model of the size the flags
// ask for, with the simulator's known gaps filled so that it looks like a vCenter whose hosts
// can vMotion: vMotion enabled on every host, no host CD-ROM on the VMs, every mounting host
// listed on each datastore. Prints the SDK URL on its first line, serves until SIGTERM/SIGINT.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	datacenters := flag.Int("dc", 1, "datacenters")
	clusters := flag.Int("cluster", 2, "clusters per datacenter")
	clusterHosts := flag.Int("cluster-host", 3, "hosts per cluster")
	standalone := flag.Int("host", 0, "standalone hosts per datacenter")
	datastores := flag.Int("ds", 2, "datastores per datacenter")
	machines := flag.Int("vm", 2, "VMs per resource pool")
	portgroups := flag.Int("pg", 2, "distributed port groups per datacenter")
	username := flag.String("username", "administrator@vsphere.local", "the one user")
	password := flag.String("password", "vmshift-vcsim", "its password")
	secure := flag.Bool("tls", false, "serve https with a self-signed certificate")
	flag.DurationVar(&relocation, "relocate-time", 3*time.Second, "how long a RelocateVM_Task runs")
	flag.StringVar(&failing, "fail-relocate", "", "a VM whose RelocateVM_Task fails half-way")
	flag.StringVar(&incompatible, "incompatible", "", "a VM QueryVMotionCompatibilityEx finds incompatible with every host")
	flag.Parse()

	model := simulator.VPX()
	model.Datacenter = *datacenters
	model.Cluster = *clusters
	model.ClusterHost = *clusterHosts
	model.Host = *standalone
	model.Datastore = *datastores
	model.Machine = *machines
	model.Portgroup = *portgroups
	model.Autostart = true
	if err := model.Create(); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
	defer model.Remove()
	fillGaps()
	progressVMs()
	provisioningCheckers()

	// The one user: the simulator checks logins against the listen URL's user.
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	if *secure {
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned()}}
	}
	server := model.Service.NewServer()
	defer server.Close()
	u := *server.URL
	u.User = nil
	fmt.Println(u.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

// fillGaps makes the model look like a vCenter whose hosts can vMotion.
func fillGaps() {
	mounts := map[types.ManagedObjectReference][]types.DatastoreHostMount{}
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		h.Summary.Config.VmotionEnabled = true
		vmotionVmknic(h)
		for _, ds := range h.Datastore {
			mounts[ds] = append(mounts[ds], types.DatastoreHostMount{
				Key: h.Self,
				MountInfo: types.HostMountInfo{
					AccessMode: "readWrite",
					Mounted:    types.NewBool(true),
					Accessible: types.NewBool(true),
				},
			})
		}
	}
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		if m, ok := mounts[ds.Self]; ok {
			ds.Host = m
		}
	}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		var kept []types.BaseVirtualDevice
		for _, d := range vm.Config.Hardware.Device {
			if _, cdrom := d.(*types.VirtualCdrom); !cdrom {
				kept = append(kept, d)
			}
		}
		vm.Config.Hardware.Device = kept
	}
}

// selfSigned is a fresh P-256 certificate for 127.0.0.1 (the simulator's own test certificate
// has a 1024-bit RSA key, which TLS clients rightly refuse).
func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "vcsim.vmshift.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// vmotionVmknic selects vmk0 for vMotion (the simulator selects none) on 25 Gbit/s uplinks
// (its 10 Gbit/s are vmshift's default: a distinct figure shows it was read).
func vmotionVmknic(h *simulator.HostSystem) {
	config := *h.Config
	network := *config.Network
	pnics := append([]types.PhysicalNic(nil), network.Pnic...)
	for i := range pnics {
		pnics[i].LinkSpeed = &types.PhysicalNicLinkInfo{SpeedMb: 25000, Duplex: true}
	}
	network.Pnic = pnics
	config.Network = &network
	if len(network.Vnic) > 0 && config.VirtualNicManagerInfo != nil {
		info := *config.VirtualNicManagerInfo
		vnic := network.Vnic[0]
		vnic.Key = "vmotion." + vnic.Key
		var configs []types.VirtualNicManagerNetConfig
		for _, c := range info.NetConfig {
			if c.NicType != "vmotion" {
				configs = append(configs, c)
			}
		}
		info.NetConfig = append(configs, types.VirtualNicManagerNetConfig{
			NicType:            "vmotion",
			MultiSelectAllowed: true,
			CandidateVnic:      []types.HostVirtualNic{vnic},
			SelectedVnic:       []string{vnic.Key},
		})
		config.VirtualNicManagerInfo = &info
	}
	h.Config = &config
}
