/// The checks of `iotedge check` in the order they run, under edgelet's headings. Later
/// checks may use what earlier ones found (the hub's port outcomes, the daemon's answers).
public enum AllChecks {
    public static var sections: [CheckSection] {
        [
            CheckSection("Configuration checks", [
                ConfigWellFormed(),
                ConfigUpToDate(),
                ConnectionString(),
                HostnameCheck(),
                ConnectManagementURI(),
                DaemonVersion(),
                SystemModulesRunning(),
                ConnectWorkloadURI(),
                IdentityProvisioned(),
                EdgeCAExpiry(),
                CertsMatchPrivateKeys(),
                DiskSpace(),
                LogRotation(),
                StorageMountedFromHost(module: "edgeAgent"),
                StorageMountedFromHost(module: "edgeHub"),
                OptimizeForPerformance(),
            ]),
            CheckSection("Connectivity checks", [
                HostConnectDNS(),
                HostConnectIoTHub(.amqp),
                HostConnectIoTHub(.https),
                HostConnectIoTHub(.mqtt),
                HostLocalTime(),
                EdgeHubHostPorts(),
            ]),
        ]
    }
}
