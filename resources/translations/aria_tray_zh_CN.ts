<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AddDialog</name>
    <message>
        <location filename="../../desktop/add_dialog.py" line="+84"/>
        <source>Add downloads</source>
        <translation>添加下载</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>One per line: http(s), ftp or sftp URLs, magnet links, or paths of .torrent and .metalink files. Paste a whole text and its links are picked out.</source>
        <translation>每行一个：http(s)、ftp 或 sftp 链接、磁力链接，或 .torrent、.metalink 文件的路径。粘贴整段文本时会自动提取其中的链接。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Add torrent or metalink files…</source>
        <translation>添加种子或 Metalink 文件…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Only for a single link</source>
        <translation>仅适用于单个链接</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Split into:</source>
        <translation>分段数：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>sha-256=… (optional, single link)</source>
        <translation>sha-256=…（可选，仅单个链接）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start paused</source>
        <translation>添加后暂停</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Save to:</source>
        <translation>保存到：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>File name:</source>
        <translation>文件名：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Connections per server:</source>
        <translation>每服务器连接数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Checksum:</source>
        <translation>校验和：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The default from Settings</source>
        <translation>使用设置中的默认值</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>name=value; other=value</source>
        <translation>name=value; other=value</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>One per line, e.g. Authorization: Bearer …</source>
        <translation>每行一个，例如 Authorization: Bearer …</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>HTTP request</source>
        <translation>HTTP 请求</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Referer:</source>
        <translation>Referer：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>User agent:</source>
        <translation>用户代理：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cookie:</source>
        <translation>Cookie：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Extra headers:</source>
        <translation>附加请求头：</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Links:</source>
        <translation>链接：</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Line {line}: {reason} — {text}</source>
        <translation>第 {line} 行：{reason} — {text}</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>No links yet.</source>
        <translation>尚未输入链接。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{links}, {problems}</source>
        <translation>{links}，{problems}</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <location line="+5"/>
        <source>%n link(s) ready</source>
        <translation>
            <numerusform>%n 个链接就绪</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="-4"/>
        <source>%n line(s) with problems</source>
        <translation>
            <numerusform>%n 行有问题</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+86"/>
        <source>Added %n download(s). These lines were not added:</source>
        <translation>
            <numerusform>已添加 %n 个下载。以下各行未添加：</numerusform>
        </translation>
    </message>
    <message>
        <location line="-14"/>
        <source>The links could not be recorded: {error}</source>
        <translation>无法记录这些链接：{error}</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Save downloads to</source>
        <translation>下载保存位置</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Add torrent or metalink files</source>
        <translation>添加种子或 Metalink 文件</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Torrents and metalinks (*.torrent *.metalink *.meta4)</source>
        <translation>种子和 Metalink 文件 (*.torrent *.metalink *.meta4)</translation>
    </message>
</context>
<context>
    <name>AppUi</name>
    <message>
        <location filename="../../desktop/app_ui.py" line="+139"/>
        <source>No system tray was found: closing this window quits Aria Tray.</source>
        <translation>未找到系统托盘：关闭此窗口将退出 Aria Tray。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Aria Tray keeps running in the system tray when you close this window.</source>
        <translation>关闭此窗口后，Aria Tray 会继续在系统托盘中运行。</translation>
    </message>
    <message>
        <location line="+63"/>
        <source>Links added</source>
        <translation>已添加链接</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Links added to Aria Tray: {count}</source>
        <translation>已添加到 Aria Tray 的链接：{count}</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>… and {count} more</source>
        <translation>… 另有 {count} 项</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Download link copied</source>
        <translation>已复制下载链接</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{count} download links copied</source>
        <translation>已复制 {count} 个下载链接</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Click to add.</source>
        <translation>点击添加。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Speed limit not changed</source>
        <translation>速度限制未更改</translation>
    </message>
</context>
<context>
    <name>Aria2Errors</name>
    <message>
        <location filename="../../desktop/aria2_errors.py" line="+20"/>
        <source>The download finished without an error.</source>
        <translation>下载已完成，没有出错。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>aria2 hit an unknown error.</source>
        <translation>aria2 遇到了未知错误。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server did not answer in time.</source>
        <translation>服务器没有及时响应。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The file was not found on the server.</source>
        <translation>服务器上找不到该文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The file was not found on the server, too many times in a row.</source>
        <translation>服务器上多次连续找不到该文件。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The download was stopped because it was too slow (lowest speed limit).</source>
        <translation>下载速度过慢（低于最低速度限制），下载已停止。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A network problem stopped the download.</source>
        <translation>网络问题导致下载中断。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The download was interrupted before it finished.</source>
        <translation>下载在完成前被中断。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server cannot resume a download, and resuming was required.</source>
        <translation>服务器不支持断点续传，而本次下载需要续传。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>There is not enough free disk space.</source>
        <translation>磁盘空间不足。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The piece size differs from the one in the .aria2 control file.</source>
        <translation>分块大小与 .aria2 控制文件中的不一致。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The same file is already being downloaded.</source>
        <translation>同一个文件已在下载中。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The same torrent is already being downloaded.</source>
        <translation>同一个种子已在下载中。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A file of that name already exists.</source>
        <translation>同名文件已存在。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The file could not be renamed.</source>
        <translation>无法重命名文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The existing file could not be opened.</source>
        <translation>无法打开已有的文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The file could not be created or truncated.</source>
        <translation>无法创建或截断文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reading or writing the file failed.</source>
        <translation>读写文件失败。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The download folder could not be created.</source>
        <translation>无法创建下载文件夹。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server&apos;s name could not be resolved.</source>
        <translation>无法解析服务器的域名。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The metalink file could not be read.</source>
        <translation>无法读取 Metalink 文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>An FTP command failed.</source>
        <translation>FTP 命令执行失败。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server sent a bad or unexpected HTTP response.</source>
        <translation>服务器返回了错误或意外的 HTTP 响应。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server redirected too many times.</source>
        <translation>服务器重定向次数过多。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server refused the login (HTTP authorization failed).</source>
        <translation>服务器拒绝登录（HTTP 认证失败）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The .torrent file could not be read.</source>
        <translation>无法读取 .torrent 文件。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The .torrent file is damaged or incomplete.</source>
        <translation>.torrent 文件已损坏或不完整。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The magnet link is not valid.</source>
        <translation>磁力链接无效。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>An option was not accepted by aria2.</source>
        <translation>aria2 不接受某个选项。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The server is overloaded or under maintenance; try again later.</source>
        <translation>服务器过载或正在维护，请稍后再试。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>aria2 could not read a request sent to it.</source>
        <translation>aria2 无法解析发给它的请求。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>aria2 reported an error it reserves for future use.</source>
        <translation>aria2 报告了一个保留的错误代码。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The downloaded file does not match the checksum it was given.</source>
        <translation>下载的文件与给定的校验和不符。</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>The download failed.</source>
        <translation>下载失败。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>aria2 reported error {code}.</source>
        <translation>aria2 报告了错误 {code}。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The file was kept: {files}. It may be damaged, or the checksum may be wrong. Retry downloads it again; Remove with “Also delete the downloaded files” deletes it.</source>
        <translation>文件已保留：{files}。它可能已损坏，也可能是校验和有误。“重试”会重新下载；选择“删除”并勾选“同时删除已下载的文件”会删除它。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>What was downloaded so far stays in {files}, so Retry can go on from there; Remove with “Also delete the downloaded files” deletes it.</source>
        <translation>已下载的部分保留在 {files}，“重试”可从那里继续；选择“删除”并勾选“同时删除已下载的文件”会删除它。</translation>
    </message>
</context>
<context>
    <name>Controller</name>
    <message>
        <location filename="../../desktop/controller.py" line="+158"/>
        <source>Some links were not added</source>
        <translation>部分链接未能添加</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No link was added</source>
        <translation>没有添加任何链接</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Pause all</source>
        <translation>全部暂停</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Resume all</source>
        <translation>全部继续</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Save session</source>
        <translation>保存会话</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>{what} failed</source>
        <translation>{what}失败</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The download engine is stopped: {error}</source>
        <translation>下载引擎已停止：{error}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The download engine is still starting; try again in a moment.</source>
        <translation>下载引擎仍在启动，请稍后再试。</translation>
    </message>
    <message>
        <location line="+49"/>
        <source>Download engine stopped</source>
        <translation>下载引擎已停止</translation>
    </message>
</context>
<context>
    <name>DetailsPane</name>
    <message>
        <location filename="../../desktop/details_pane.py" line="+69"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Apply file selection</source>
        <translation>应用文件选择</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Link</source>
        <translation>链接</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Peer</source>
        <translation>节点</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>↓ Speed</source>
        <translation>↓ 速度</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>↑ Speed</source>
        <translation>↑ 速度</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Seeder</source>
        <translation>做种者</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Files</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Links</source>
        <translation>链接</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Peers</source>
        <translation>节点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Select one download to see its details.</source>
        <translation>选择一个下载任务以查看详情。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Seeders: {seeders} · Peers: {peers}</source>
        <translation>做种者：{seeders} · 节点：{peers}</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>(name not known yet)</source>
        <translation>（名称暂未知）</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Untick the files you do not want, then apply.</source>
        <translation>取消勾选不需要的文件，然后点击应用。</translation>
    </message>
</context>
<context>
    <name>DownloadTableModel</name>
    <message>
        <location filename="../../desktop/download_rows.py" line="+59"/>
        <source>Downloading</source>
        <translation>正在下载</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Queued</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Removed</source>
        <translation>已移除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Seeding</source>
        <translation>做种中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Fetching metadata</source>
        <translation>正在获取元数据</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Queued: starting as soon as aria2 gets to it.</source>
        <translation>排队中：aria2 处理到它时就会开始。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Queued: the limit of downloads at the same time ({limit}, in Settings) is reached.</source>
        <translation>排队中：已达到同时下载数的上限（{limit}，可在设置中更改）。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Magnet links still looking for peers count toward it: {count}.</source>
        <translation>其中仍在寻找节点的磁力链接：{count}。</translation>
    </message>
    <message>
        <location filename="../../desktop/download_model.py" line="+120"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>↓ Speed</source>
        <translation>↓ 速度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>↑ Speed</source>
        <translation>↑ 速度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ETA</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Connections</source>
        <translation>连接数</translation>
    </message>
</context>
<context>
    <name>DropHandler</name>
    <message>
        <location filename="../../desktop/drop_handling.py" line="+108"/>
        <source>Nothing to add</source>
        <translation>没有可添加的内容</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The drop held no links, magnet links or .torrent/.metalink files.</source>
        <translation>拖入的内容中没有链接、磁力链接或 .torrent/.metalink 文件。</translation>
    </message>
    <message>
        <location line="+13"/>
        <location line="+27"/>
        <source>Links not added</source>
        <translation>链接未添加</translation>
    </message>
    <message numerus="yes">
        <location line="-21"/>
        <source>… and %n more</source>
        <translation>
            <numerusform>……还有 %n 项</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n item(s) not added</source>
        <translation>
            <numerusform>%n 项未添加</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Nothing was added</source>
        <translation>未添加任何内容</translation>
    </message>
</context>
<context>
    <name>DropZone</name>
    <message>
        <location filename="../../desktop/drop_zone.py" line="+57"/>
        <source>Aria Tray drop zone</source>
        <translation>Aria Tray 悬浮窗</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Drop links, magnet links or .torrent files here</source>
        <translation>将链接、磁力链接或 .torrent 文件拖到这里</translation>
    </message>
    <message>
        <location line="+54"/>
        <source>Drop links here</source>
        <translation>拖放链接到这里</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Added ✓</source>
        <translation>已添加 ✓</translation>
    </message>
    <message>
        <location line="+71"/>
        <source>Add download…</source>
        <translation>添加下载…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show/Hide window</source>
        <translation>显示/隐藏窗口</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Hide drop zone</source>
        <translation>隐藏悬浮窗</translation>
    </message>
</context>
<context>
    <name>DuplicateLinks</name>
    <message>
        <location filename="../../desktop/duplicate_links.py" line="+53"/>
        <source>… ({count} in all)</source>
        <translation>……（共 {count} 个）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Already in the list</source>
        <translation>已在列表中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Already in the download list:</source>
        <translation>以下链接已在下载列表中：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show it</source>
        <translation>显示它</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Download again</source>
        <translation>重新下载</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
</context>
<context>
    <name>EngineBanner</name>
    <message>
        <location filename="../../desktop/engine_banner.py" line="+43"/>
        <source>Open Settings…</source>
        <translation>打开设置…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>The download engine has stopped, so no download can run.
{error}
Check the options in Settings (Advanced), then try again.</source>
        <translation>下载引擎已停止，任何下载都无法进行。
{error}
请检查“设置”（高级）中的选项，然后重试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No reason was given.</source>
        <translation>未给出原因。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/main_window.py" line="+81"/>
        <source>Aria Tray</source>
        <translation>Aria Tray</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Search names and links…</source>
        <translation>搜索名称和链接…</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Drop links here or press Ctrl+V</source>
        <translation>将链接拖放到这里，或按 Ctrl+V</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Drop to add</source>
        <translation>松开即可添加</translation>
    </message>
    <message>
        <location filename="../../desktop/download_table.py" line="+55"/>
        <source>Fetching metadata</source>
        <translation>正在获取元数据</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Connections</source>
        <translation>连接数</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="+52"/>
        <source>Actions</source>
        <translation>操作</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>No links in the clipboard.</source>
        <translation>剪贴板中没有链接。</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>All ({count})</source>
        <translation>全部 ({count})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Active ({count})</source>
        <translation>正在下载 ({count})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Waiting ({count})</source>
        <translation>等待中 ({count})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Paused ({count})</source>
        <translation>已暂停 ({count})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Completed ({count})</source>
        <translation>已完成 ({count})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed ({count})</source>
        <translation>失败 ({count})</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>The download list can&apos;t be updated: {problem}. Retrying…</source>
        <translation>无法更新下载列表：{problem}。正在重试…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>↓ {down}  ↑ {up}</source>
        <translation>↓ {down}  ↑ {up}</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <location filename="../../desktop/messages.py" line="+33"/>
        <source>empty line</source>
        <translation>空行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>malformed URL (no host name)</source>
        <translation>URL 格式错误（缺少主机名）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>malformed URL (bad port number)</source>
        <translation>URL 格式错误（端口号无效）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>malformed URL (spaces or control characters)</source>
        <translation>URL 格式错误（含有空格或控制字符）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>malformed magnet link (spaces or control characters)</source>
        <translation>磁力链接格式错误（含有空格或控制字符）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>missing scheme (put http:// or https:// in front)</source>
        <translation>缺少协议（请在前面加上 http:// 或 https://）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>file not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not a file</source>
        <translation>不是文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>only .torrent, .metalink and .meta4 files can be added</source>
        <translation>只能添加 .torrent、.metalink 和 .meta4 文件</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>not a link, a magnet link or a .torrent/.metalink file</source>
        <translation>不是链接、磁力链接或 .torrent/.metalink 文件</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>a file on another computer (only local files can be added)</source>
        <translation>这是其他计算机上的文件（只能添加本地文件）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>magnet link without an info hash (xt=urn:btih:…)</source>
        <translation>磁力链接缺少信息哈希（xt=urn:btih:…）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>magnet link with a malformed info hash</source>
        <translation>磁力链接的信息哈希格式错误</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>scheme “{scheme}” is not supported (use http, https, ftp, sftp or magnet)</source>
        <translation>不支持协议“{scheme}”（请使用 http、https、ftp、sftp 或 magnet）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>{item}: {reason}</source>
        <translation>{item}：{reason}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>“{text}” is not key=value</source>
        <translation>“{text}”不是 key=value 格式</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>“{key}” cannot be set: Aria Tray manages it to keep aria2c private and tied to the app</source>
        <translation>不能设置“{key}”：此选项由 Aria Tray 管理，以保证 aria2c 仅供本应用使用并随其退出</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>“{key}” is not an option of this aria2c (check the spelling)</source>
        <translation>“{key}”不是此 aria2c 的选项（请检查拼写）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>“{key}” has its own field in Settings; set it there</source>
        <translation>“{key}”在设置中有专门的选项，请在那里设置</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>“{key}” is set twice</source>
        <translation>“{key}”被设置了两次</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Line {line}: {text}</source>
        <translation>第 {line} 行：{text}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>aria2c does not accept the value of “{option}”: {detail}</source>
        <translation>aria2c 不接受“{option}”的值：{detail}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>aria2c does not accept the options: {detail}</source>
        <translation>aria2c 不接受这些选项：{detail}</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Checksum: write it as type=digest, e.g. sha-256=…</source>
        <translation>校验和：请按“类型=摘要”填写，例如 sha-256=…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Checksum: unknown type (use md5, sha-1, sha-224, sha-256, sha-384, sha-512)</source>
        <translation>校验和：未知类型（请使用 md5、sha-1、sha-224、sha-256、sha-384 或 sha-512）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Checksum: the digest is not hexadecimal of the right length</source>
        <translation>校验和：摘要不是长度正确的十六进制数</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Checksum: only for a single link</source>
        <translation>校验和：仅适用于单个链接</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Header “{line}”: write it as Name: value</source>
        <translation>请求头“{line}”：请按“名称: 值”填写</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>File name: a name only, without folders</source>
        <translation>文件名：只填写名称，不要包含文件夹</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>File name: only for a single link</source>
        <translation>文件名：仅适用于单个链接</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Save to: choose a full folder path</source>
        <translation>保存到：请选择完整的文件夹路径</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>another aria2c program is chosen</source>
        <translation>选择了另一个 aria2c 程序</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>“{option}” was cleared, and aria2c forgets it only by starting again</source>
        <translation>已清除“{option}”，aria2c 重新启动后才会忘记它</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>aria2c reads “{option}” only when it starts</source>
        <translation>aria2c 只在启动时读取“{option}”</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>the download engine is not running</source>
        <translation>下载引擎未运行</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the download engine is starting…</source>
        <translation>下载引擎正在启动…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the download engine is ready</source>
        <translation>下载引擎已就绪</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the download engine is restarting…</source>
        <translation>下载引擎正在重启…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the download engine is stopping…</source>
        <translation>下载引擎正在停止…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the download engine has stopped working</source>
        <translation>下载引擎已停止工作</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>{hours}h {minutes}m</source>
        <translation>{hours}小时{minutes}分</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{minutes}m {seconds}s</source>
        <translation>{minutes}分{seconds}秒</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{seconds}s</source>
        <translation>{seconds}秒</translation>
    </message>
</context>
<context>
    <name>Notifier</name>
    <message numerus="yes">
        <location filename="../../desktop/notifications.py" line="+75"/>
        <location line="+40"/>
        <source>… and %n more</source>
        <translation>
            <numerusform>……还有 %n 项</numerusform>
        </translation>
    </message>
    <message>
        <location line="-38"/>
        <source>{done}, {failed}</source>
        <translation>{done}，{failed}</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n downloaded</source>
        <translation>
            <numerusform>%n 个已下载</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n failed</source>
        <translation>
            <numerusform>%n 个失败</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Download failed</source>
        <translation>下载失败</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n downloads failed</source>
        <translation>
            <numerusform>%n 个下载失败</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>%n downloads complete</source>
        <translation>
            <numerusform>%n 个下载已完成</numerusform>
        </translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Could not open the folder</source>
        <translation>无法打开文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Nothing on this computer could open {path}.</source>
        <translation>这台电脑上没有程序能打开 {path}。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Seeding until the limits in Settings are reached.</source>
        <translation>将继续做种，直到达到设置中的限制。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Download complete, now seeding</source>
        <translation>下载完成，正在做种</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n downloads complete, now seeding</source>
        <translation>
            <numerusform>%n 个下载已完成，正在做种</numerusform>
        </translation>
    </message>
    <message>
        <location line="+12"/>
        <source>{name}: downloaded</source>
        <translation>{name}：已下载</translation>
    </message>
    <message>
        <location line="-43"/>
        <source>Download complete</source>
        <translation>下载完成</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>{name}: {reason}</source>
        <translation>{name}：{reason}</translation>
    </message>
</context>
<context>
    <name>OptionChecker</name>
    <message>
        <location filename="../../desktop/option_check.py" line="+59"/>
        <source>aria2c program: {error}</source>
        <translation>aria2c 程序：{error}</translation>
    </message>
</context>
<context>
    <name>PathField</name>
    <message>
        <location filename="../../desktop/path_field.py" line="+26"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
</context>
<context>
    <name>Preferences</name>
    <message>
        <location filename="../../desktop/preferences.py" line="+112"/>
        <source>Start at login: {error}</source>
        <translation>登录时启动：{error}</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>The settings could not be saved: {error}</source>
        <translation>无法保存设置：{error}</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <location filename="../../desktop/i18n.py" line="+49"/>
        <source>&amp;Look in:</source>
        <translation>查找范围(&amp;L)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Files of &amp;type:</source>
        <translation>文件类型(&amp;T)：</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop/settings_dialog.py" line="+79"/>
        <source>Aria Tray Settings</source>
        <translation>Aria Tray 设置</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Network</source>
        <translation>网络</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Advanced</source>
        <translation>高级</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Download folder:</source>
        <translation>下载文件夹：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Downloads at the same time:</source>
        <translation>同时下载数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Connections per server:</source>
        <translation>每服务器连接数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Split each download into:</source>
        <translation>每个下载的分段数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Download limit:</source>
        <translation>下载限速：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Upload limit:</source>
        <translation>上传限速：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>aria2&apos;s own</source>
        <translation>aria2 默认</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>http://user:password@host:port</source>
        <translation>http://user:password@host:port</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No ratio limit</source>
        <translation>不限分享率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop seeding after</source>
        <translation>限制做种时长</translation>
    </message>
    <message>
        <location line="+4"/>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>User agent:</source>
        <translation>用户代理：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Proxy (all protocols):</source>
        <translation>代理（所有协议）：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>BitTorrent seed ratio:</source>
        <translation>BT 做种分享率：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>BitTorrent seed time:</source>
        <translation>BT 做种时长：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Start in the tray (window hidden)</source>
        <translation>启动时只显示托盘图标（隐藏窗口）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start Aria Tray when I log in</source>
        <translation>登录时启动 Aria Tray</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Notify when downloads finish or fail</source>
        <translation>下载完成或失败时通知</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A new language shows after Aria Tray restarts.</source>
        <translation>新语言将在 Aria Tray 重启后生效。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The aria2c that comes with Aria Tray</source>
        <translation>Aria Tray 自带的 aria2c</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>One option per line, for example:
max-tries=10
min-split-size=4M</source>
        <translation>每行一个选项，例如：
max-tries=10
min-split-size=4M</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>aria2c program:</source>
        <translation>aria2c 程序：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Extra aria2c options (key=value, one per line):</source>
        <translation>额外的 aria2c 选项（key=value，每行一个）：</translation>
    </message>
    <message>
        <location line="+14"/>
        <source> kB/s</source>
        <translation> kB/s</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Unlimited</source>
        <translation>不限速</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Set by {variable} for this run (saved setting: {saved}).</source>
        <translation>本次运行由 {variable} 指定（已保存的设置：{saved}）。</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Choose a download folder.</source>
        <translation>请选择下载文件夹。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The download folder must be a full path.</source>
        <translation>下载文件夹必须是完整路径。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The proxy address cannot contain spaces.</source>
        <translation>代理地址不能包含空格。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Fix the problems on the Advanced tab.</source>
        <translation>请先修正“高级”页中的问题。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Applying…</source>
        <translation>正在应用…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>aria2 refused the change: {error}</source>
        <translation>aria2 拒绝了此更改：{error}</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Restart Aria Tray?</source>
        <translation>重新启动 Aria Tray？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The new language shows after Aria Tray restarts. Restart now?</source>
        <translation>新的语言将在 Aria Tray 重新启动后生效。现在重新启动吗？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Downloads continue after the restart.</source>
        <translation>重新启动后下载会继续。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Restart the download engine?</source>
        <translation>要重启下载引擎吗？</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>These settings take effect when aria2c restarts. Running downloads stop for a moment and then continue.</source>
        <translation>这些设置在 aria2c 重启后生效。正在进行的下载会短暂停止，随后继续。</translation>
    </message>
    <message>
        <location line="-12"/>
        <location line="+17"/>
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <location line="-280"/>
        <source>Download folder</source>
        <translation>下载文件夹</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>Choose aria2c</source>
        <translation>选择 aria2c</translation>
    </message>
</context>
<context>
    <name>TaskActions</name>
    <message>
        <location filename="../../desktop/task_actions.py" line="+100"/>
        <source>Pause failed</source>
        <translation>暂停失败</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Resume failed</source>
        <translation>继续失败</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+7"/>
        <source>Move failed</source>
        <translation>调整顺序失败</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Speed limit not set</source>
        <translation>未能设置限速</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>File selection not changed</source>
        <translation>未能更改文件选择</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>{name}: no link to retry</source>
        <translation>{name}：没有可重试的链接</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Retry failed</source>
        <translation>重试失败</translation>
    </message>
    <message>
        <location line="+23"/>
        <location line="+37"/>
        <source>Remove failed</source>
        <translation>删除失败</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Clear history failed</source>
        <translation>清除历史记录失败</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../desktop/tray.py" line="+43"/>
        <source>Show/Hide</source>
        <translation>显示/隐藏</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add download…</source>
        <translation>添加下载…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add from clipboard</source>
        <translation>从剪贴板添加</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Pause all</source>
        <translation>全部暂停</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume all</source>
        <translation>全部继续</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+214"/>
        <source>Speed limit</source>
        <translation>限速</translation>
    </message>
    <message>
        <location line="-123"/>
        <source>Unlimited</source>
        <translation>不限速</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+91"/>
        <source>Custom…</source>
        <translation>自定义…</translation>
    </message>
    <message>
        <location line="-19"/>
        <source>{app}: {state}</source>
        <translation>{app}：{state}</translation>
    </message>
    <message>
        <location line="-169"/>
        <source>Drop zone</source>
        <translation>悬浮窗</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>Watch clipboard</source>
        <translation>监视剪贴板</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Open download folder</source>
        <translation>打开下载文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location line="+155"/>
        <source>↓ {down} ↑ {up} · {active} active</source>
        <translation>↓ {down} ↑ {up} · {active} 个任务进行中</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{app}: the download engine stopped: {error}</source>
        <translation>{app}：下载引擎已停止：{error}</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Custom ({limit})…</source>
        <translation>自定义（{limit}）…</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Maximum download speed for all downloads, in kB/s (0 = unlimited):</source>
        <translation>所有下载的最大下载速度，单位 kB/s（0 表示不限速）：</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>Aria Tray is running in the system tray.</source>
        <translation>Aria Tray 正在系统托盘中运行。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Nothing to add</source>
        <translation>没有可添加的内容</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>No links in the clipboard.</source>
        <translation>剪贴板中没有链接。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Could not open the folder</source>
        <translation>无法打开文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Nothing on this computer could open {path}.</source>
        <translation>这台电脑上没有程序能打开 {path}。</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <location filename="../../desktop/window_actions.py" line="+63"/>
        <source>Add download…</source>
        <translation>添加下载…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open file</source>
        <translation>打开文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open folder</source>
        <translation>打开所在文件夹</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Copy link</source>
        <translation>复制链接</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Speed limit…</source>
        <translation>限速…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+171"/>
        <source>Clear history</source>
        <translation>清除历史记录</translation>
    </message>
    <message>
        <location line="-169"/>
        <source>Paste links</source>
        <translation>粘贴链接</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Close window</source>
        <translation>关闭窗口</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quit Aria Tray</source>
        <translation>退出 Aria Tray</translation>
    </message>
    <message numerus="yes">
        <location line="+87"/>
        <source>Remove download(s)</source>
        <translation>
            <numerusform>删除下载</numerusform>
        </translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Remove “{name}” from the list?</source>
        <translation>从列表中删除“{name}”？</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>Remove these %n downloads from the list?</source>
        <translation>
            <numerusform>从列表中删除这 %n 个下载？</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>… and %n more</source>
        <translation>
            <numerusform>……还有 %n 项</numerusform>
        </translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Nothing on this computer could open {path}.</source>
        <translation>这台电脑上没有程序能打开 {path}。</translation>
    </message>
    <message numerus="yes">
        <location line="+7"/>
        <source>Copied %n link(s).</source>
        <translation>
            <numerusform>已复制 %n 个链接。</numerusform>
        </translation>
    </message>
    <message>
        <location line="-45"/>
        <source>Also delete the downloaded files</source>
        <translation>同时删除已下载的文件</translation>
    </message>
    <message>
        <location line="-143"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Downloads</source>
        <translation>下载(&amp;D)</translation>
    </message>
    <message>
        <location line="+144"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>The file is not there any more.</source>
        <translation>文件已不存在。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Speed limit</source>
        <translation>限速</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Maximum download speed in kB/s (0 = unlimited):</source>
        <translation>最大下载速度，单位 kB/s（0 表示不限速）：</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Forget all completed and failed downloads? Their files stay on disk.</source>
        <translation>清除所有已完成和失败的下载记录吗？文件仍会保留在磁盘上。</translation>
    </message>
</context>
</TS>
