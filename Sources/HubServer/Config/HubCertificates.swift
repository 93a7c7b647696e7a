import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The hub's own PKI: a CA (`ca.pem`, the trust anchor clients are given) and a server
/// certificate signed by it for the hub's host name and localhost. Made on first start and
/// reused after, so clients keep trusting the hub across restarts.
public struct HubCertificates: Sendable {
    public let caPEM: String
    public let serverCertificatePEM: String
    public let serverKeyPEM: String

    /// Certificates issued elsewhere: edgeHub's come from the edge daemon's workload API.
    public init(caPEM: String, serverCertificatePEM: String, serverKeyPEM: String) {
        self.caPEM = caPEM
        self.serverCertificatePEM = serverCertificatePEM
        self.serverKeyPEM = serverKeyPEM
    }

    /// Loads the certificates from the data directory, creating any that are missing. A server
    /// certificate that does not name `host` is issued again (the host changed).
    public static func loadOrCreate(in config: HubConfiguration) throws -> HubCertificates {
        let caURL = config.file("ca.pem"), caKeyURL = config.file("ca.key")
        let certURL = config.file("server.pem"), keyURL = config.file("server.key")
        let fm = FileManager.default
        let caKey: P256.Signing.PrivateKey
        let caCert: Certificate
        if fm.fileExists(atPath: caURL.path), fm.fileExists(atPath: caKeyURL.path) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: SecretFile.read(caKeyURL))
            caCert = try Certificate(pemEncoded: SecretFile.read(caURL))
        } else {
            (caKey, caCert) = try makeCA()
            try SecretFile.write(caKey.pemRepresentation, to: caKeyURL)
            try writePublic(try caCert.serializeAsPEM().pemString, to: caURL)
        }
        let hostMarker = config.file("server.host")
        let issuedFor = (try? String(contentsOf: hostMarker, encoding: .utf8)) ?? ""
        if !fm.fileExists(atPath: certURL.path) || !fm.fileExists(atPath: keyURL.path) || issuedFor != config.host {
            let key = P256.Signing.PrivateKey()
            let cert = try makeServerCertificate(host: config.host, key: key, caKey: caKey, caCert: caCert)
            try SecretFile.write(key.pemRepresentation, to: keyURL)
            try writePublic(try cert.serializeAsPEM().pemString, to: certURL)
            try writePublic(config.host, to: hostMarker)
        }
        return HubCertificates(caPEM: try SecretFile.read(caURL), serverCertificatePEM: try SecretFile.read(certURL),
                               serverKeyPEM: try SecretFile.read(keyURL))
    }

    /// TLS 1.2 or newer, the server certificate followed by the CA.
    public func serverTLSConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array((serverCertificatePEM + "\n" + caPEM).utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(serverKeyPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // How long a closing connection waits for the peer's close_notify. Clients that keep
        // idle HTTPS connections (msrest) never send one, and NIO's 5 s default made every
        // shutdown wait that long.
        tls.shutdownTimeout = .seconds(1)
        return tls
    }

    private static func writePublic(_ text: String, to url: URL) throws {
        do { try text.write(to: url, atomically: true, encoding: .utf8) } catch {
            throw HubSetupError.cannotWrite(url.path, error.localizedDescription)
        }
    }

    private static func makeCA() throws -> (P256.Signing.PrivateKey, Certificate) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Outpost")
            CommonName("Outpost IoT Hub CA")
        }
        let now = Date()
        let ski = SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                ski
            },
            issuerPrivateKey: .init(key))
        return (key, cert)
    }

    private static func makeServerCertificate(host: String, key: P256.Signing.PrivateKey,
                                              caKey: P256.Signing.PrivateKey, caCert: Certificate) throws -> Certificate {
        var sans: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        if let ip = HostName.ipv4Bytes(host) {
            if ip != [127, 0, 0, 1] { sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) }
        } else if host != "localhost" {
            sans.insert(.dnsName(host), at: 0)
        }
        let now = Date()
        let caSKI = try caCert.extensions.subjectKeyIdentifier
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(2 * 365 * 86_400),
            issuer: caCert.subject,
            subject: try DistinguishedName { OrganizationName("Outpost"); CommonName(host) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyAgreement: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(sans)
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                if let caSKI { AuthorityKeyIdentifier(keyIdentifier: caSKI.keyIdentifier) }
            },
            issuerPrivateKey: .init(caKey))
    }
}
