extension AlertDoorbell {
    /// Where the notifier's PULL socket is bound: the alert-worker PUSHes (connects) here after each
    /// `AlertStore.commitBlock` that inserted rows. A lost ring only delays delivery (the notifier also
    /// watches the store), so a non-blocking send that would block may be dropped.
    public static func endpoint(stateDirectory: String) -> String { "ipc://\(stateDirectory)/notifier.sock" }
}
