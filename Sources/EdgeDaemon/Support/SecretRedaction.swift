/// What must not leave the device in clear: keys, passwords, tokens, connection strings. Used
/// wherever a module's environment is shown (`iotedge exec … printenv`). The name rule is the
/// support bundle's (`BundleRedaction.isSecretName`), so that both hide the same variables.
public enum SecretRedaction {
    public static func isSecret(key: String, value: String) -> Bool {
        // A variable named just KEY is a secret; the bundle's rule exempts `key` because there
        // it is the name field of `{key, value}` pairs.
        if BundleRedaction.isSecretName(key) || key.uppercased() == "KEY" { return true }
        return value.contains("SharedAccessKey=") || value.contains("SharedAccessSignature ") || value.contains("sig=")
    }
}
