fn main() {
    println!(
        "Spec {} Scheduler {} LeafSpec {} ChildSpec {}",
        core::mem::size_of::<sched_core::Spec>(),
        core::mem::size_of::<sched_core::Scheduler>(),
        core::mem::size_of::<sched_core::LeafSpec>(),
        core::mem::size_of::<sched_core::ChildSpec>()
    );
}
