// QueryVMotionCompatibilityEx as vCenter answers it (docs/VCENTER.md#the-test-server): the
// simulator names a VirtualMachineProvisioningChecker in its service content but registers
// none. Ours answers every VM and host pair compatible, except the VM named by -incompatible,
// for which it answers vCenter's CPU incompatibility error.
package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var incompatible string

type provisioningChecker struct {
	mo.VirtualMachineProvisioningChecker
}

// provisioningCheckers registers the checker the service content names.
func provisioningCheckers() {
	c := &provisioningChecker{}
	c.Self = types.ManagedObjectReference{Type: "VirtualMachineProvisioningChecker", Value: "ProvChecker"}
	simulator.Map.Put(c)
}

func (c *provisioningChecker) QueryVMotionCompatibilityExTask(ctx *simulator.Context, req *types.QueryVMotionCompatibilityEx_Task) soap.HasFault {
	task := simulator.CreateTask(c, "queryVMotionCompatibilityEx", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		var results []types.CheckResult
		for i := range req.Vm {
			for j := range req.Host {
				vm, host := req.Vm[i], req.Host[j]
				r := types.CheckResult{Vm: &vm, Host: &host}
				if e, ok := simulator.Map.Get(vm).(*progressVM); ok && e.Name == incompatible {
					r.Error = append(r.Error, types.LocalizedMethodFault{
						Fault:            &types.CpuIncompatible{Level: 1, RegisterName: "ecx"},
						LocalizedMessage: "The virtual machine requires hardware features that are unsupported or disabled on the target host",
					})
				}
				results = append(results, r)
			}
		}
		return types.ArrayOfCheckResult{CheckResult: results}, nil
	})
	return &methods.QueryVMotionCompatibilityEx_TaskBody{
		Res: &types.QueryVMotionCompatibilityEx_TaskResponse{Returnval: task.Run()},
	}
}
