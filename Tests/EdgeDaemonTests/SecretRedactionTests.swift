import EdgeDaemon
import Testing

@Suite("Secrets in a module's environment")
struct SecretRedactionTests {
    @Test("names that hold secrets, by the support bundle's rule", arguments: [
        "EdgeHubConnectionString", "DB_PASSWORD", "MY_API_TOKEN", "KEY", "SharedAccessKey",
        "AZURE_CLIENT_SECRET", "UPLOAD_SAS_URL",
    ])
    func secretNames(name: String) {
        #expect(SecretRedaction.isSecret(key: name, value: "x"))
    }

    @Test("ordinary settings stay readable", arguments: ["RuntimeLogLevel", "IOTEDGE_MODULEID", "PATH", "IOTEDGE_APIVERSION", "TEMP_INTERVAL"])
    func ordinaryNames(name: String) {
        #expect(!SecretRedaction.isSecret(key: name, value: "1"))
    }

    @Test("a connection string or SAS token is hidden whatever the variable is called")
    func secretValues() {
        #expect(SecretRedaction.isSecret(key: "UPSTREAM", value: "HostName=h;DeviceId=d;SharedAccessKey=abc="))
        #expect(SecretRedaction.isSecret(key: "AUTH", value: "SharedAccessSignature sr=h%2Fdevices%2Fd&sig=x&se=1"))
    }
}
