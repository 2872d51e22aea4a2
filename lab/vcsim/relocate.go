// RelocateVM_Task as a vCenter runs it (docs/VCENTER.md#the-test-server): the simulator's own
// completes at once, reports no progress, checks nothing and cannot be cancelled. Here every
// VM is a progressVM, whose RelocateVMTask runs in the background for -relocate-time,
// reporting info.progress; its task is a cancellableTask (CancelTask ends it, the VM stays);
// the VM named by -fail-relocate fails half-way with a fault. At the end the VM is on its
// new host and pool and its disks on the new datastore, as vCenter reports a move.
package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	relocation time.Duration
	failing    string
	// Tasks a client asked to cancel.
	cancelled sync.Map
)

// progressVM is a simulator VM whose relocation runs like vCenter's.
type progressVM struct {
	simulator.VirtualMachine
}

// cancellableTask is a simulator task that CancelTask can end.
type cancellableTask struct {
	simulator.Task
}

func (t *cancellableTask) CancelTask(ctx *simulator.Context, req *types.CancelTask) soap.HasFault {
	cancelled.Store(t.Self.Value, true)
	return &methods.CancelTaskBody{Res: new(types.CancelTaskResponse)}
}

// progressVMs replaces every VM of the model by a progressVM.
func progressVMs() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		simulator.Map.Put(&progressVM{VirtualMachine: *vm})
	}
}

func (vm *progressVM) RelocateVMTask(ctx *simulator.Context, req *types.RelocateVM_Task) soap.HasFault {
	task := simulator.CreateTask(vm, "relocateVm", nil)
	simulator.Map.Put(&cancellableTask{Task: *task})
	go relocate(task.Self, vm.Self, vm.Name, req.Spec)
	return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: task.Self}}
}

func relocate(taskRef, vmRef types.ManagedObjectReference, name string, spec types.VirtualMachineRelocateSpec) {
	update := func(changes ...types.PropertyChange) {
		simulator.Map.Update(simulator.Map.Get(taskRef), changes)
	}
	fail := func(fault types.BaseMethodFault, message string) {
		update(
			types.PropertyChange{Name: "info.completeTime", Val: time.Now()},
			types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateError},
			types.PropertyChange{Name: "info.error", Val: types.LocalizedMethodFault{Fault: fault, LocalizedMessage: message}},
		)
	}
	update(
		types.PropertyChange{Name: "info.startTime", Val: time.Now()},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateRunning},
		types.PropertyChange{Name: "info.progress", Val: int32(0)},
	)
	const steps = 20
	for i := 1; i <= steps; i++ {
		time.Sleep(relocation / steps)
		if _, ok := cancelled.Load(taskRef.Value); ok {
			fail(new(types.RequestCanceled), "The task was canceled by a user.")
			return
		}
		if name == failing && i == steps/2 {
			fail(new(types.MigrationFault), fmt.Sprintf("A general system error occurred: migration of %s failed (vmshift test server)", name))
			return
		}
		if i < steps {
			update(types.PropertyChange{Name: "info.progress", Val: int32(i * 100 / steps)})
		}
	}
	vm := simulator.Map.Get(vmRef).(*progressVM)
	var changes []types.PropertyChange
	if spec.Host != nil {
		changes = append(changes,
			types.PropertyChange{Name: "runtime.host", Val: *spec.Host},
			types.PropertyChange{Name: "summary.runtime.host", Val: *spec.Host})
	}
	if spec.Pool != nil {
		changes = append(changes, types.PropertyChange{Name: "resourcePool", Val: *spec.Pool})
	}
	if spec.Datastore != nil {
		changes = append(changes,
			types.PropertyChange{Name: "datastore", Val: []types.ManagedObjectReference{*spec.Datastore}},
			types.PropertyChange{Name: "config.hardware.device", Val: movedDisks(vm, spec)})
	}
	simulator.Map.Update(vm, changes)
	update(
		types.PropertyChange{Name: "info.progress", Val: int32(100)},
		types.PropertyChange{Name: "info.completeTime", Val: time.Now()},
		types.PropertyChange{Name: "info.state", Val: types.TaskInfoStateSuccess},
	)
}

// movedDisks is the VM's devices with each disk on the datastore the spec gives it (its
// locator, else the spec's datastore).
func movedDisks(vm *progressVM, spec types.VirtualMachineRelocateSpec) []types.BaseVirtualDevice {
	target := func(key int32) types.ManagedObjectReference {
		for _, l := range spec.Disk {
			if l.DiskId == key {
				return l.Datastore
			}
		}
		return *spec.Datastore
	}
	var out []types.BaseVirtualDevice
	for _, d := range vm.Config.Hardware.Device {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			out = append(out, d)
			continue
		}
		moved := *disk
		if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
			backing := *b
			ds := target(disk.Key)
			backing.Datastore = &ds
			dsName := ds.Value
			if e, ok := simulator.Map.Get(ds).(*simulator.Datastore); ok {
				dsName = e.Name
			}
			file := backing.FileName
			if i := strings.Index(file, "] "); i >= 0 {
				file = file[i+2:]
			}
			backing.FileName = fmt.Sprintf("[%s] %s", dsName, file)
			moved.Backing = &backing
		}
		out = append(out, &moved)
	}
	return out
}
