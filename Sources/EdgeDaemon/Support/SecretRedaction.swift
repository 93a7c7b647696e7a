/// What must not leave the device in clear: keys, passwords, tokens, connection strings. Used
/// wherever a module's environment or the config is shown (`iotedge exec … printenv`).
public enum SecretRedaction {
    static let secretWords = ["KEY", "PASSWORD", "PASSWD", "SECRET", "TOKEN", "CONNECTIONSTRING", "CONNECTION_STRING", "CREDENTIAL"]

    public static func isSecret(key: String, value: String) -> Bool {
        let k = key.uppercased()
        if secretWords.contains(where: { k.contains($0) }) { return true }
        return value.contains("SharedAccessKey=") || value.contains("SharedAccessSignature ") || value.contains("sig=")
    }
}
