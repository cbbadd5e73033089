import { useEffect, useState } from 'react';

function UsersRealtime() {
    const [users, setUsers] = useState([]);
    const [ws, setWs] = useState(null);

    useEffect(() => {
        // Connect to WebSocket
        const websocket = new WebSocket('ws://localhost:8000/ws/users');

        websocket.onmessage = (event) => {
            const data = JSON.parse(event.data);

            switch(data.type) {
                case 'created':
                    setUsers(prev => [...prev, data.data]);
                    break;
                case 'updated':
                    setUsers(prev => prev.map(u =>
                        u.id === data.data.id ? data.data : u
                    ));
                    break;
                case 'deleted':
                    setUsers(prev => prev.filter(u => u.id !== data.data.id));
                    break;
            }
        };

        setWs(websocket);

        // Load initial users
        fetch('http://localhost:8000/users/')
            .then(res => res.json())
            .then(data => setUsers(data));

        return () => websocket.close();
    }, []);

    return (
        <div>
            <h2>Users (Real-time)</h2>
            {users.map(user => (
                <div key={user.id}>
                    {user.name} - {user.email}
                </div>
            ))}
        </div>
    );
}
