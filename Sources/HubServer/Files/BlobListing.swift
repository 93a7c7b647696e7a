import Foundation
import NIOCore

/// List Blobs' answer, the `EnumerationResults` XML that the Azure Storage libraries read
/// (https://learn.microsoft.com/rest/api/storageservices/list-blobs). One page: the hub's
/// containers are small enough that no continuation marker is needed.
enum BlobListing {
    static func response(_ items: [BlobStore.Item], container: String, prefix: String?, endpoint: String) -> HTTPResponse {
        let e = StorageError.escape
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        xml += "<EnumerationResults ServiceEndpoint=\"\(e(endpoint))\" ContainerName=\"\(e(container))\">"
        if let prefix { xml += "<Prefix>\(e(prefix))</Prefix>" }
        xml += "<Blobs>"
        for item in items where prefix.map({ item.name.hasPrefix($0) }) ?? true {
            let p = item.properties
            let modified = StorageHeaders.httpDate(p.lastModified)
            xml += "<Blob><Name>\(e(item.name))</Name><Properties>"
            xml += "<Creation-Time>\(modified)</Creation-Time><Last-Modified>\(modified)</Last-Modified><Etag>\(p.etag)</Etag>"
            xml += "<Content-Length>\(p.size)</Content-Length><Content-Type>application/octet-stream</Content-Type>"
            xml += "<BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
            xml += "<ServerEncrypted>false</ServerEncrypted></Properties></Blob>"
        }
        xml += "</Blobs><NextMarker/></EnumerationResults>"
        var headers = StorageHeaders.common()
        headers.add(name: "Content-Type", value: "application/xml")
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(ByteBuffer(string: xml)))
    }
}
