import Testing
import Twin
@testable import EdgeDaemon

/// Secrets never reach a support bundle: config.toml, deployments and module environments.
@Suite("support bundle redaction")
struct BundleRedactionTests {
    static let key = "c2VjcmV0LWRldmljZS1rZXktMTIzNDU2Nzg5MA=="

    @Test func configKeepsItsShapeAndLosesItsSecrets() {
        let toml = """
        hostname = "gateway.local"
        homedir = "/var/lib/outpost"

        [provisioning]
        source = "manual"
        connection_string = "HostName=hub.example;DeviceId=gw1;SharedAccessKey=\(Self.key)"
        # connection_string = "HostName=old;DeviceId=gw0;SharedAccessKey=b2xkLWtleQ=="

        [provisioning.authentication]
        device_id_pk = { value = "cGstaW5saW5lLXNlY3JldA==" }
        iothub_https_port = 8443

        [agent.env]
        RuntimeLogLevel = "debug"
        "RegistryPassword" = "hunter2-registry"
        UpstreamToken = 'single-quoted-token'
        CERT_KEY = \"\"\"
        -----BEGIN PRIVATE KEY-----
        bXVsdGktbGluZQ==
        -----END PRIVATE KEY-----
        \"\"\"
        StorageFolder = "/var/lib/outpost/storage"
        """
        let out = BundleRedaction().redactTOML(toml)
        for secret in [Self.key, "b2xkLWtleQ==", "cGstaW5saW5lLXNlY3JldA==", "hunter2-registry", "single-quoted-token", "bXVsdGktbGluZQ==", "BEGIN PRIVATE KEY"] {
            #expect(!out.contains(secret), "\(secret) is still in:\n\(out)")
        }
        #expect(out.contains(#"connection_string = "HostName=hub.example;DeviceId=gw1;SharedAccessKey=<redacted>""#))
        #expect(out.contains(#"# connection_string = "HostName=old;DeviceId=gw0;SharedAccessKey=<redacted>""#))
        #expect(out.contains(#"device_id_pk = { value = "<redacted>" }"#))
        #expect(out.contains(#""RegistryPassword" = "<redacted>""#))
        // What is not secret stays as written, and so do the lines around the redacted ones.
        for kept in [#"hostname = "gateway.local""#, "iothub_https_port = 8443", #"RuntimeLogLevel = "debug""#,
                     #"StorageFolder = "/var/lib/outpost/storage""#, "[provisioning.authentication]"] {
            #expect(out.contains(kept), "\(kept) is missing from:\n\(out)")
        }
        #expect(out.split(separator: "\n", omittingEmptySubsequences: false).count == toml.split(separator: "\n", omittingEmptySubsequences: false).count)
    }

    @Test func aKnownSecretIsRemovedWhateverItsSettingIsCalled() {
        let toml = "[agent.env]\nSOMETHING = \"\(Self.key)\"\n"
        #expect(BundleRedaction().redactTOML(toml).contains(Self.key))
        let out = BundleRedaction(knownSecrets: [Self.key]).redactTOML(toml)
        #expect(!out.contains(Self.key))
        #expect(out.contains("SOMETHING = \"<redacted>\""))
    }

    @Test func deploymentsAndModuleEnvironmentsLoseTheirSecrets() throws {
        let json = try JSONValue(parsing: """
        {"runtime": {"settings": {"registryCredentials": {"acr": {"address": "r.example", "username": "me", "password": "pw-123"}}}},
         "modules": {"m": {"env": {"HubConnection": {"value": "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=bW9kdWxlLWtleQ=="},
                                    "ApiKey": {"value": "api-secret"}, "Greeting": {"value": "hello"}}}},
         "config": {"env": [{"key": "DB_PASSWORD", "value": "db-secret"}, {"key": "MODE", "value": "fast"}]},
         "sasUrl": "https://store.example/c/b?sv=2020&sig=c2lnbmF0dXJl",
         "generationId": "637", "$version": 4}
        """)
        let out = BundleRedaction().redactJSON(json)
        let text = out.jsonText
        for secret in ["pw-123", "bW9kdWxlLWtleQ==", "api-secret", "db-secret", "c2lnbmF0dXJl"] {
            #expect(!text.contains(secret), "\(secret) is still in \(text)")
        }
        #expect(out.value(at: ["runtime", "settings", "registryCredentials", "acr", "username"])?.stringValue == "me")
        #expect(out.value(at: ["modules", "m", "env", "HubConnection", "value"])?.stringValue == "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=<redacted>")
        #expect(out.value(at: ["modules", "m", "env", "Greeting", "value"])?.stringValue == "hello")
        let env = out.value(at: ["config", "env"])?.arrayValue ?? []
        #expect(env.first?["key"]?.stringValue == "DB_PASSWORD" && env.first?["value"]?.stringValue == "<redacted>")
        #expect(env.last?["value"]?.stringValue == "fast")
        #expect(out["generationId"]?.stringValue == "637" && out["$version"]?.numberValue == 4)
    }

    @Test func secretNames() {
        for name in ["device_id_pk", "SharedAccessKey", "password", "\"RegistryPassword\"", "connection_string", "sasUrl", "provisioning.symmetric_key", "api_token"] {
            #expect(BundleRedaction.isSecretName(name), "\(name)")
        }
        for name in ["key", "hostname", "homedir", "deviceId", "keyId", "image", "RuntimeLogLevel"] {
            #expect(!BundleRedaction.isSecretName(name), "\(name)")
        }
    }
}
