import { serveOverIpc } from './sink';

serveOverIpc();
