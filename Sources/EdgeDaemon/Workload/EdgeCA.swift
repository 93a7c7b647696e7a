#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto
import SwiftASN1
import X509

/// The device's edge CA: a P-256 key and a self-signed CA certificate the daemon makes on first
/// start (`<homedir>/certs/edge-ca.pem`, key `edge-ca.key.pem` 0600) and reuses after. It signs
/// the server certificates the workload API issues (edgeHub's, for the host name modules
/// connect to), and it is in the trust bundle, so modules trust edgeHub.
public struct EdgeCA: @unchecked Sendable {
    public let certificate: Certificate
    public let certificatePEM: String
    private let key: P256.Signing.PrivateKey

    /// A server certificate with its key.
    public struct Issued: Sendable {
        public var certificatePEM: String
        public var privateKeyPEM: String
        public var expiration: Double
    }

    public static func loadOrCreate(directory: String, commonName: String = "Outpost Edge CA", validDays: Int = 90) throws -> EdgeCA {
        try FileIO.makeDirectories(directory, mode: 0o700)
        let certPath = FileIO.join(directory, "edge-ca.pem"), keyPath = FileIO.join(directory, "edge-ca.key.pem")
        if let certText = FileIO.readText(certPath), let keyText = FileIO.readText(keyPath),
           let key = try? P256.Signing.PrivateKey(pemRepresentation: keyText),
           let cert = try? Certificate(pemEncoded: certText),
           cert.notValidAfter.timeIntervalSince1970 > RFC3339.now() + 86_400 {
            return EdgeCA(certificate: cert, certificatePEM: certText, key: key)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Outpost")
            CommonName(commonName)
        }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        let pem = try cert.serializeAsPEM().pemString + "\n"
        try FileIO.write(key.pemRepresentation + "\n", to: keyPath, mode: 0o600)
        try FileIO.write(pem, to: certPath, mode: 0o644)
        return EdgeCA(certificate: cert, certificatePEM: pem, key: key)
    }

    /// A server certificate for `commonName` (a DNS name or an IP address) and `moduleId` as
    /// SANs, as edgelet issues them, valid until `expiration` or the CA's own end, whichever
    /// is first.
    public func issueServerCertificate(commonName: String, moduleId: String, expiration: Double) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        var sans: [GeneralName] = []
        if let ip = Hostname.ipv4Bytes(commonName) {
            sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))))
        } else {
            sans.append(.dnsName(commonName))
        }
        let moduleName = WorkloadCaller.runtimeName(moduleId)
        if moduleName != commonName, Hostname.validate(moduleName) == nil { sans.append(.dnsName(moduleName)) }
        let now = RFC3339.now()
        let end = min(expiration, certificate.notValidAfter.timeIntervalSince1970)
        let caSKI = try certificate.extensions.subjectKeyIdentifier
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date(timeIntervalSince1970: now - 300), notValidAfter: Date(timeIntervalSince1970: end),
            issuer: certificate.subject,
            subject: try DistinguishedName { CommonName(commonName) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true, keyAgreement: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(sans)
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
                if let caSKI { AuthorityKeyIdentifier(keyIdentifier: caSKI.keyIdentifier) }
            },
            issuerPrivateKey: .init(self.key))
        let chain = try cert.serializeAsPEM().pemString + "\n" + certificatePEM
        return Issued(certificatePEM: chain, privateKeyPEM: key.pemRepresentation + "\n", expiration: end)
    }
}
